"""Read YAML and spreadsheet files someone else wrote without letting them exhaust memory or time.

Knowledge files, `botkit.yaml` and client exports are plain data: anchors and aliases
(`&a`, `*a`, the stuff of "billion laughs" bombs) are refused outright, files above a size
cap are refused before they are read, and every parser failure (deep nesting's
`RecursionError` included) becomes a `Problem` with file and line.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import yaml

from botkit.errors import KnowledgeError, Problem

MAX_FILE_BYTES = 5_000_000
"""Default cap on a knowledge file, `botkit.yaml` or client export (`BOTKIT_MAX_FILE_BYTES`)."""

UNZIPPED_FACTOR = 20
"""An .xlsx may unpack to this many times the cap (its XML compresses well), not more."""


class AliasError(yaml.MarkedYAMLError):
    """An anchor or alias in a file that must hold plain data."""


class StrictLoader(yaml.SafeLoader):
    """`yaml.SafeLoader` that raises on every anchor and alias event."""

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]  # the PyYAML stubs leave peek_event untyped
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise AliasError(
                problem="uses an anchor or alias (&name / *name); write the value out instead",
                problem_mark=event.start_mark,
            )
        # The stubs say int; PyYAML passes a sequence index or a mapping's key node.
        return super().compose_node(parent, index)  # type: ignore[arg-type]


def compose_yaml(text: str, name: str) -> yaml.Node | None:
    """The node tree of one YAML document, without anchors or aliases.

    Raises:
        KnowledgeError: the text is not valid YAML, uses an anchor or alias, or nests too deep.
    """
    try:
        return yaml.compose(text, Loader=StrictLoader)
    except (yaml.YAMLError, RecursionError) as exc:
        raise KnowledgeError([yaml_problem(name, exc)]) from exc


def load_yaml(text: str, name: str) -> Any:
    """Python values of one YAML document, without anchors or aliases (errors as `compose_yaml`)."""
    try:
        return yaml.load(text, Loader=StrictLoader)  # noqa: S506 - StrictLoader is a SafeLoader
    except (yaml.YAMLError, RecursionError) as exc:
        raise KnowledgeError([yaml_problem(name, exc)]) from exc


def yaml_problem(name: str, exc: BaseException) -> Problem:
    """A parser failure as a `Problem` with the line it happened on."""
    if isinstance(exc, RecursionError):
        return Problem(name, None, None, "nests too deep to read; flatten the lists and mappings")
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or exc
    if isinstance(exc, AliasError):
        return Problem(name, mark.line + 1 if mark else None, None, str(problem))
    return Problem(name, mark.line + 1 if mark else None, None, f"is not valid YAML ({problem})")


def read_capped(path: Path, max_bytes: int, name: str | None = None) -> bytes:
    """The bytes of `path` if it is at most `max_bytes` long (an .xlsx also unpacked).

    Raises:
        KnowledgeError: the file is larger, or an .xlsx unpacks to more than `UNZIPPED_FACTOR` times that.
    """
    shown = name or str(path)
    size = path.stat().st_size
    if size > max_bytes:
        raise KnowledgeError(
            [
                Problem(
                    shown, None, None, (f"is {size:,} bytes, more than the limit of {max_bytes:,}; split it into smaller files or raise BOTKIT_MAX_FILE_BYTES")
                )
            ]
        )
    if path.suffix.lower() in {".xlsx", ".xlsm"}:
        try:
            with zipfile.ZipFile(path) as book:
                unpacked = sum(info.file_size for info in book.infolist())
        except zipfile.BadZipFile as exc:
            raise KnowledgeError([Problem(shown, None, None, "is not an .xlsx workbook; save it again from Excel")]) from exc
        if unpacked > max_bytes * UNZIPPED_FACTOR:
            raise KnowledgeError(
                [
                    Problem(
                        shown,
                        None,
                        None,
                        (
                            f"unpacks to {unpacked:,} bytes, more than {UNZIPPED_FACTOR} x the limit of {max_bytes:,}; "
                            "save a smaller workbook or raise BOTKIT_MAX_FILE_BYTES"
                        ),
                    )
                ]
            )
    return path.read_bytes()
