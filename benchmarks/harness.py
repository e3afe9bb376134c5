"""What the benchmarks share: a cached embedder, an index built through botkit, threshold picking, AUROC."""

from __future__ import annotations

import json
import platform
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from botkit.index import KnowledgeIndex, build_index
from botkit.policy.escalation import Thresholds, decide
from botkit.protocols import Embedder
from botkit.providers.chroma import LocalGenerations
from botkit.retrieve import Retriever
from botkit.types import Decision, FaqEntry, Retrieval

ROOT = Path(__file__).resolve().parent
RESULTS = ROOT / "results"
DATASETS = ROOT.parent.parent / "shared" / "datasets"


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


def open_retriever(entries: Sequence[FaqEntry], folder: Path, embedder: Embedder, with_answers: bool = False) -> Retriever:
    """Build a fresh index of `entries` in `folder` with botkit's own code and open a retriever on it."""
    generations = LocalGenerations(folder)
    build_index(entries, embedder, generations, rebuild=True, with_answers=with_answers)
    index = KnowledgeIndex.open(generations, embedder)
    return Retriever(index, {e.id: e.lang for e in entries})


@dataclass(frozen=True)
class Case:
    """A query and the entry ids that count as right (empty: out of scope, should be handed over)."""

    text: str
    expected: frozenset[str]


def retrieve_all(retriever: Retriever, cases: Sequence[Case], lang: str | None = None) -> list[Retrieval]:
    return [retriever.retrieve(c.text, lang=lang) for c in cases]


def answered_correctly(retrieval: Retrieval, case: Case, threshold: float) -> bool:
    """Did botkit's escalation policy answer, and with a right entry? (clarification is off)."""
    verdict = decide(retrieval, Thresholds(threshold, clarify_margin=0.0, max_misses=10**6), 0, False)
    return verdict.decision == Decision.ANSWERED and retrieval.top is not None and retrieval.top.entry_id in case.expected


def handed_over(retrieval: Retrieval, threshold: float) -> bool:
    verdict = decide(retrieval, Thresholds(threshold, clarify_margin=0.0, max_misses=10**6), 0, False)
    return verdict.decision == Decision.HANDOVER


def escalation_scores(retrievals: Sequence[Retrieval], cases: Sequence[Case], threshold: float) -> dict[str, float]:
    """In-scope accuracy (answered with a right entry), OOS recall (handed over), AUROC of the confidence."""
    inside = [(r, c) for r, c in zip(retrievals, cases) if c.expected]
    outside = [r for r, c in zip(retrievals, cases) if not c.expected]
    return {
        "in_scope_accuracy": float(np.mean([answered_correctly(r, c, threshold) for r, c in inside])),
        "oos_recall": float(np.mean([handed_over(r, threshold) for r in outside])),
        "auroc": auroc([r.confidence for r, _ in inside], [r.confidence for r in outside]),
        "top1_in_scope": float(np.mean([bool(r.top) and r.top.entry_id in c.expected for r, c in inside])),
        "threshold": threshold,
    }


def balanced_threshold(retrievals: Sequence[Retrieval], cases: Sequence[Case]) -> float:
    """The `balanced` objective: the threshold maximising the mean of in-scope accuracy and OOS recall.

    Ties go to the lowest such threshold. Use it on tuning cases only, never on the test split.
    """
    conf = np.array([r.confidence for r in retrievals])
    inside = np.array([bool(c.expected) for c in cases])
    right = np.array([bool(r.top) and r.top.entry_id in c.expected for r, c in zip(retrievals, cases)])
    candidates = np.unique(np.r_[conf, 0.0, 1.0 + 1e-9])
    best, best_score = 0.0, -1.0
    for t in candidates:
        score = (np.mean(right[inside] & (conf[inside] >= t)) + np.mean(conf[~inside] < t)) / 2
        if score > best_score + 1e-12:
            best, best_score = float(t), float(score)
    return best


def auroc(positive: Sequence[float], negative: Sequence[float]) -> float:
    """Probability that a random in-scope query scores above a random out-of-scope one (ties count half)."""
    neg = np.sort(np.asarray(negative, dtype=float))
    pos = np.asarray(positive, dtype=float)
    below = np.searchsorted(neg, pos, side="left")
    ties = np.searchsorted(neg, pos, side="right") - below
    return float((below + 0.5 * ties).sum() / (len(pos) * len(neg)))


def machine() -> dict[str, object]:
    import os

    return {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()}


def write_result(name: str, result: dict[str, object]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"machine": machine(), **result}, indent=2, ensure_ascii=False))
    return path
