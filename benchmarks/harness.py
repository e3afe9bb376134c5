"""What the benchmarks share: a cached embedder, indexes built by botkit, and evaluation with botkit's own tune and metrics."""

from __future__ import annotations

import json
import platform
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmarks.baseline import NearestNeighbour
from botkit.evaluation.metrics import CaseResult, hit_at, in_scope_accuracy, oos_auroc, oos_recall, redecide
from botkit.evaluation.tuning import tune
from botkit.index import KnowledgeIndex, build_index
from botkit.policy.escalation import Thresholds, decide
from botkit.protocols import Embedder
from botkit.providers.chroma import ChromaStore
from botkit.retrieve import Retriever
from botkit.types import FaqEntry

ROOT = Path(__file__).resolve().parent
RESULTS = ROOT / "results"
DATASETS = ROOT.parent.parent / "shared" / "datasets"
_NEVER = 10**6  # max misses: single questions never hand over for repeated misses


class CachedEmbedder:
    """The real embedder, remembering vectors so texts shared by several runs are embedded once.

    Vectors are identical either way (USE is deterministic); this only saves benchmark time.
    """

    def __init__(self, inner: Embedder) -> None:
        self._inner = inner
        self.model_id = inner.model_id
        self.version = inner.version
        self._cache: dict[str, np.ndarray] = {}

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if missing:
            self._cache.update(zip(missing, self._inner.embed(missing)))
        if not texts:
            return self._inner.embed([])
        return np.stack([self._cache[t] for t in texts])


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
    return {name: METHODS[name](index, languages) for name in methods}


@dataclass(frozen=True)
class Case:
    """A query and the entry that is right (None: out of scope, should be handed over)."""

    text: str
    expected: str | None


def evaluate(retriever: Retriever | NearestNeighbour, cases: Sequence[Case], lang: str | None = None) -> list[CaseResult]:
    """Retrieve every case; the results can be re-decided at any threshold with botkit's own rule."""
    results = []
    for case in cases:
        retrieval = retriever.retrieve(case.text, lang=lang)
        verdict = decide(retrieval, Thresholds(0.0, 0.0, _NEVER), 0, False)
        results.append(
            CaseResult(
                question=case.text,
                lang=lang or "",
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
    return tune(results, embedder, max_misses=_NEVER).threshold


def escalation_scores(results: Sequence[CaseResult], threshold: float) -> dict[str, float | None]:
    """In-scope accuracy, OOS recall (clarification off) and OOS AUROC of the confidence at `threshold`."""
    at = [redecide(r, Thresholds(threshold, 0.0, _NEVER)) for r in results]
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
