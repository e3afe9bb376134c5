"""What the benchmarks share: a cached embedder, indexes built by botkit, and evaluation with botkit's own tune and metrics."""

from __future__ import annotations

import json
import platform
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmarks.baseline import NearestNeighbour
from botkit.calibration import Calibration
from botkit.evaluation.metrics import (
    CaseResult,
    hit_at,
    in_scope_accuracy,
    oos_auroc,
    oos_recall,
    redecide,
    resolved_rate,
    suggest_rate,
    wrong_answer_rate,
)
from botkit.evaluation.tuning import MAX_WRONG_ANSWERS, tune
from botkit.index import KnowledgeIndex, build_index
from botkit.policy.escalation import Thresholds, decide
from botkit.protocols import Embedder
from botkit.providers.chroma import ChromaStore
from botkit.retrieve import Retriever
from botkit.types import FaqEntry

ROOT = Path(__file__).resolve().parent
RESULTS = ROOT / "results"
DATASETS = ROOT.parent.parent / "shared" / "datasets"
NEVER = 10**6  # max misses: single questions never hand over for repeated misses


class CachedEmbedder:
    """The real embedder, remembering vectors so texts shared by several runs are embedded once.

    Vectors are identical either way (USE is deterministic); this only saves benchmark time.
    With `path` (an `.npz` outside the repository) the vectors are kept between runs too:
    `save()` writes them, the next run with the same embedder reads them.
    """

    def __init__(self, inner: Embedder, path: Path | None = None) -> None:
        self._inner = inner
        self.model_id = inner.model_id
        self.version = inner.version
        self._path = path
        self._cache: dict[str, np.ndarray] = {}
        if path is not None and path.exists():
            stored = np.load(path, allow_pickle=True)
            if [str(v) for v in stored["model"]] == [self.model_id, self.version]:
                self._cache = dict(zip(stored["texts"].tolist(), stored["vectors"]))

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if missing:
            self._cache.update(zip(missing, self._inner.embed(missing)))
        if not texts:
            return self._inner.embed([])
        return np.stack([self._cache[t] for t in texts])

    def save(self) -> None:
        """Write the remembered vectors to `path` (nothing without one)."""
        if self._path is None or not self._cache:
            return
        texts = list(self._cache)
        vectors = np.stack([self._cache[t] for t in texts]).astype(np.float32)
        model = np.array([self.model_id, self.version])
        np.savez(self._path, texts=np.array(texts, dtype=object), vectors=vectors, model=model)


Method = Callable[[KnowledgeIndex, dict[str, str]], Retriever | NearestNeighbour]
METHODS: dict[str, Method] = {"botkit": Retriever, "baseline": NearestNeighbour}


def open_retrievers(
    entries: Sequence[FaqEntry], folder: Path, embedder: Embedder, methods: Sequence[str], with_answers: bool = False
) -> dict[str, Retriever | NearestNeighbour]:
    """Build a fresh index of `entries` in `folder` with botkit's own code and open each method's retriever on it."""
    store = ChromaStore(folder)
    build_index(entries, embedder, store, rebuild=True, with_answers=with_answers)
    index = KnowledgeIndex.open(store, embedder)
    languages = {e.id: e.lang for e in entries}
    opened = {name: METHODS[name](index, languages) for name in methods}
    for retriever in opened.values():
        if isinstance(retriever, Retriever) and retriever.fitter is not None:
            retriever.fitter.wait()  # a warm-started refit: measure the fitted model, not the stand-in
    return opened


@dataclass(frozen=True)
class Case:
    """A query and the entry that is right (None: out of scope, should be handed over), in `lang` if known."""

    text: str
    expected: str | None
    lang: str | None = None


def evaluate(retriever: Retriever | NearestNeighbour, cases: Sequence[Case], lang: str | None = None) -> list[CaseResult]:
    """Retrieve every case; the results can be re-decided at any threshold with botkit's own rule."""
    results = []
    for case in cases:
        retrieval = retriever.retrieve(case.text, lang=case.lang or lang)
        verdict = decide(retrieval, Thresholds(0.0, 0.0, NEVER), 0, False)
        results.append(
            CaseResult(
                question=case.text,
                lang=case.lang or lang or "",
                expected_id=case.expected,
                decision=verdict.decision,
                reason=verdict.reason,
                entries=(retrieval.top.entry_id,) if retrieval.top else (),
                ranked=tuple(h.entry_id for h in retrieval.hits),
                confidence=retrieval.confidence,
                margin=retrieval.margin,
                latency_ms=0.0,
                source="benchmark",
                retrieval=retrieval,
            )
        )
    return results


def tuned_threshold(results: Sequence[CaseResult], embedder: Embedder) -> float:
    """`botkit tune`'s `balanced` threshold. Call it on tuning cases only, never on the test split."""
    return tune(results, embedder, max_misses=NEVER).threshold


def tuned_few_wrong(results: Sequence[CaseResult], embedder: Embedder, bound: float = MAX_WRONG_ANSWERS) -> Calibration:
    """`botkit tune --objective few-wrong`. Call it on tuning cases only, never on the test split."""
    return tune(results, embedder, max_wrong_answers=bound, max_misses=NEVER)


def band_scores(results: Sequence[CaseResult], calibration: Calibration) -> dict[str, float | None]:
    """Resolved, wrong-answer and suggestion rates (and accuracy, OOS recall) at a calibration's thresholds."""
    limits = Thresholds(calibration.threshold, calibration.clarify_margin, NEVER, calibration.suggest_threshold)
    at = [redecide(r, limits) for r in results]
    return {
        "resolved_rate": resolved_rate(at),
        "wrong_answer_rate": wrong_answer_rate(at),
        "suggest_rate": suggest_rate(at),
        "in_scope_accuracy": in_scope_accuracy(at),
        "oos_recall": oos_recall(at),
        "threshold": calibration.threshold,
        "suggest_threshold": calibration.suggest_threshold,
        "clarify_margin": calibration.clarify_margin,
    }


def escalation_scores(results: Sequence[CaseResult], threshold: float) -> dict[str, float | None]:
    """In-scope accuracy, OOS recall (clarification off) and OOS AUROC of the confidence at `threshold`."""
    at = [redecide(r, Thresholds(threshold, 0.0, NEVER)) for r in results]
    return {
        "in_scope_accuracy": in_scope_accuracy(at),
        "oos_recall": oos_recall(at),
        "auroc": oos_auroc(at),
        "top1_in_scope": hit_at(at, 1),
        "threshold": threshold,
    }


def machine() -> dict[str, object]:
    import os

    return {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()}


def write_result(name: str, result: dict[str, object]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"machine": machine(), **result}, indent=2, ensure_ascii=False))
    return path
