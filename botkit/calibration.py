"""A tuned escalation threshold and clarification margin, stored as JSON beside the knowledge.

A calibration is only valid for the embedder it was tuned with: confidences of another
model (or another version) live on another scale, so reading one for a different embedder
raises `IndexMismatchError`. `botkit.evaluation.tuning.tune` makes one from evaluated cases.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from botkit.errors import EvaluationDataError, IndexMismatchError, Problem
from botkit.protocols import Embedder

FORMAT = "botkit-calibration/1"


@dataclass(frozen=True)
class Calibration:
    """A tuned threshold and margin, with the embedder they hold for and how they were found."""

    threshold: float
    clarify_margin: float
    embedder_id: str
    embedder_version: str
    objective: str  # "balanced" or "in_scope_accuracy>=X"
    metrics: dict[str, float | int | None] = field(default_factory=dict)  # on the tuning cases
    suggest_threshold: float | None = None  # the uncertain band's lower end; None: from the settings

    def check_embedder(self, embedder: Embedder, source: str = "the calibration") -> None:
        """Raise `IndexMismatchError` unless `embedder` is the one this was tuned for."""
        mine = (self.embedder_id, self.embedder_version)
        theirs = (embedder.model_id, embedder.version)
        if mine != theirs:
            raise IndexMismatchError(
                f"{source} was tuned for embedder {mine[0]} {mine[1]}, but the bot uses {theirs[0]} {theirs[1]}; "
                "confidences are not comparable across embedders. Run `botkit tune` again with this embedder."
            )


def write_calibration(calibration: Calibration, path: str | Path) -> Path:
    """Write a calibration as stable, sorted JSON (no timestamps, so it diffs cleanly)."""
    path = Path(path)
    data = {"format": FORMAT, **asdict(calibration)}
    path.write_text(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def read_calibration(path: str | Path, embedder: Embedder | None = None) -> Calibration:
    """Read a calibration file; with `embedder`, refuse one tuned for another embedder.

    A malformed file raises `EvaluationDataError` naming file, line and field.
    """
    path = Path(path)
    name = path.name
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise EvaluationDataError([Problem(str(path), None, None, "does not exist; create it with `botkit tune`")]) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        line = exc.lineno if isinstance(exc, json.JSONDecodeError) else None
        raise EvaluationDataError([Problem(name, line, None, f"is not a JSON calibration ({exc})")]) from exc
    if not isinstance(data, dict):
        raise EvaluationDataError([Problem(name, 1, None, "must be a JSON object written by `botkit tune`")])
    problems: list[Problem] = []
    if data.get("format") != FORMAT:
        problems.append(Problem(name, None, "format", f"must be {FORMAT!r}; write it with `botkit tune`"))
    for key in ("threshold", "clarify_margin"):
        value = data.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
            problems.append(Problem(name, None, key, f"must be a number between 0 and 1, not {value!r}"))
    for key in ("embedder_id", "embedder_version", "objective"):
        if not isinstance(data.get(key), str) or not data[key]:
            problems.append(Problem(name, None, key, "must be a non-empty text"))
    band = data.get("suggest_threshold")
    if band is not None and (isinstance(band, bool) or not isinstance(band, (int, float)) or not 0.0 <= band <= 1.0):
        problems.append(Problem(name, None, "suggest_threshold", f"must be a number between 0 and 1, not {band!r}"))
    if not isinstance(data.get("metrics", {}), dict):
        problems.append(Problem(name, None, "metrics", "must be an object"))
    if problems:
        raise EvaluationDataError(problems)
    calibration = Calibration(
        threshold=float(data["threshold"]),
        clarify_margin=float(data["clarify_margin"]),
        embedder_id=data["embedder_id"],
        embedder_version=data["embedder_version"],
        objective=data["objective"],
        metrics=dict(data.get("metrics", {})),
        suggest_threshold=None if band is None else float(band),
    )
    if embedder is not None:
        calibration.check_embedder(embedder, f"calibration {name}")
    return calibration
