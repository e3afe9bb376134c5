"""Run botkit's benchmarks and print a table: `python -m benchmarks.run [--quick] [--baseline] [--only NAME ...]`.

Results go to `benchmarks/results/<name>.json` (git-ignored); the table compares them with the targets.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks import banking77, german_faq, speed
from benchmarks.harness import CachedEmbedder, write_result
from botkit.providers.embedders import USEEmbedder

Row = tuple[str, str, str, str]


def _mark(value: float, target: float, higher: bool = True) -> str:
    return "yes" if (value >= target if higher else value <= target) else "NO"


def banking_rows(result: dict) -> list[Row]:
    rows = []
    higher = {"few_wrong_wrong_answer_rate": False}
    for method, variants in result["methods"].items():
        for name, label in (("all", "all rows"), ("5", "5 per intent")):
            v, t = variants[name], result["targets"][name]
            metrics = ("auroc", "top1_in_scope", "in_scope_accuracy", "oos_recall", "few_wrong_resolved_rate", "few_wrong_wrong_answer_rate")
            for metric in metrics:
                target = t.get(metric)
                up = higher.get(metric, True)
                rows.append(
                    (
                        f"Banking77 {label}, {method}, mean of seeds {result['seeds']}: {metric.replace('_', ' ')}",
                        f"{v[metric]:.3f}",
                        (f"≥ {target}" if up else f"≤ {target}") if target else "–",
                        _mark(v[metric], target, up) if target else "",
                    )
                )
    return rows


def faq_rows(result: dict) -> list[Row]:
    rows = []
    for method, variants in result["methods"].items():
        for variant, parts in variants.items():
            for part in ("held_out", "all"):
                v = parts[part]
                for metric in ("top1", "top3"):
                    target = result["targets"][metric]
                    rows.append(
                        (
                            f"German FAQ {variant}, {method}, {part.replace('_', '-')} ({v['queries']} q): {metric}",
                            f"{v[metric]:.3f}",
                            f"≥ {target}",
                            _mark(v[metric], target),
                        )
                    )
    return rows


def speed_rows(result: dict) -> list[Row]:
    b, p, t = result["sides"]["botkit"], result["sides"]["langchain"], result["targets"]
    n = result["entries"]
    return [
        (
            f"Speed {n} entries: reply p50 (plain embed+query p50)",
            f"{b['reply']['p50_ms']:.1f} ms ({p['embed_query']['p50_ms']:.1f} ms) = {result['reply_p50_vs_plain']:.2f}×",
            f"≤ {t['reply_p50_vs_plain']}×",
            _mark(result["reply_p50_vs_plain"], t["reply_p50_vs_plain"], higher=False),
        ),
        (
            "Speed: reply p99 (plain)",
            f"{b['reply']['p99_ms']:.1f} ms ({p['embed_query']['p99_ms']:.1f} ms)",
            f"≤ {t['reply_p99_ms']} ms",
            _mark(b["reply"]["p99_ms"], t["reply_p99_ms"], higher=False),
        ),
        ("Speed: retrieve only p50 / p99", f"{b['retrieve']['p50_ms']:.1f} / {b['retrieve']['p99_ms']:.1f} ms", "–", ""),
        (
            "Speed: ingest entries/s (plain)",
            f"{b['ingest_entries_per_s']:.0f} ({p['ingest_entries_per_s']:.0f}); {b['texts']} texts",
            f"≥ {t['ingest_entries_per_s']:.0f}",
            _mark(b["ingest_entries_per_s"], t["ingest_entries_per_s"]),
        ),
        (
            "Speed: re-ingest one changed entry (plain)",
            f"{b['reingest_one_s']:.2f} s ({p['reingest_one_s']:.2f} s)",
            f"< {t['reingest_one_s']} s",
            _mark(b["reingest_one_s"], t["reingest_one_s"], higher=False),
        ),
        ("Speed: open bot (build check + load)", f"{b['open_bot_s']:.2f} s", "–", ""),
        (
            "Speed: one changed entry, edit to answer from its new text",
            f"{b['change_to_answer_s']:.2f} s",
            "< 1 s",
            _mark(b["change_to_answer_s"], 1.0, higher=False),
        ),
        ("Speed: peak RSS (plain)", f"{b['peak_rss_mb']:.0f} MB ({p['peak_rss_mb']:.0f} MB)", "–", ""),
    ]


def print_table(rows: list[Row]) -> None:
    head = ("what", "measured", "target", "met")
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(4)]
    for row in [head, tuple("-" * w for w in widths), *rows]:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description="botkit benchmarks (see benchmarks/README.md)")
    parser.add_argument("--quick", action="store_true", help="a quarter of the Banking77 test set, 2,000 entries for speed")
    parser.add_argument("--baseline", action="store_true", help="also run the max-cosine baseline on Banking77 and the German FAQ")
    parser.add_argument("--only", nargs="+", choices=["banking77", "german_faq", "speed"], help="run only these")
    parser.add_argument("--cache", type=Path, help="keep embeddings in this .npz between runs (outside the repository)")
    args = parser.parse_args()
    chosen = args.only or ["banking77", "german_faq", "speed"]
    methods = ("botkit", "baseline") if args.baseline else ("botkit",)
    embedder = CachedEmbedder(USEEmbedder(threads=1), args.cache)  # two threads lose badly on a busy 2-core machine
    jobs: dict[str, tuple[Callable[[], dict], Callable[[dict], list[Row]]]] = {
        "banking77": (lambda: banking77.run(embedder, methods, args.quick), banking_rows),
        "german_faq": (lambda: german_faq.run(embedder, methods, args.quick), faq_rows),
        "speed": (lambda: speed.run(args.quick), speed_rows),
    }
    rows: list[Row] = []
    for name in chosen:
        started = time.perf_counter()
        run, table = jobs[name]
        result = run()
        result["seconds"] = round(time.perf_counter() - started, 1)
        print(f"{name}: {result['seconds']} s -> {write_result(name, result)}", flush=True)
        rows += table(result)
    embedder.save()
    print_table(rows)


if __name__ == "__main__":
    main()
