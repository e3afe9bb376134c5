"""Speed and memory with a 10k-entry knowledge base, botkit beside a plain LangChain + Chroma pipeline.

Each side runs in its own fresh process (so peak memory is its own) with the same USE
embedder on one thread, on the same synthetic knowledge base and the same queries:

- ingest: botkit's `build` (read + validate the CSV, embed, store) vs `Chroma.add_texts`;
- re-ingest of one changed entry: botkit's incremental `build` vs delete + `add_texts`;
- reply latency: `Bot.reply` (language, retrieval, policy, rendering, SQLite write) and
  `Retriever.retrieve` alone vs `similarity_search_with_score` (embed + query); also the CPU
  time of each (`time.process_time`), which moves less than wall time on a shared machine;
- peak memory: the process's maximum resident set size (`ru_maxrss`);
- opening the bot cold (`open_bot`: index check, loading vectors, whitening, TF-IDF);
- change to answer: one entry of the running bot's knowledge gets a new paraphrase;
  `Bot.reload` (re-validate, embed the entry, update the retriever, swap) until the bot
  answers from the new text, and then bringing the on-disk index up to date.

`Bot.reply` and the plain query are timed on the same questions, which the bot has not seen
before (retrieval alone is timed on others, so no embedding is reused from the cache).

Run alone with `python -m benchmarks.speed [--quick]`.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from benchmarks.harness import DATASETS, write_result
from botkit.config import Settings
from botkit.providers.embedders import USEEmbedder
from botkit.wiring import build, open_bot

ENTRIES = 10_000
QUERIES = 500
SEED = 13
TARGETS = {"reply_p50_vs_plain": 1.5, "reply_p99_ms": 15.0, "ingest_entries_per_s": 1000.0, "reingest_one_s": 1.0}

_ASK = ("{}", "{}", "Quick question: {}", "{} Thanks!", "Hi, {}", "{} ({})", "About my {}: {}")
_PRODUCTS = (
    "Visa debit card",
    "Mastercard",
    "premium account",
    "joint account",
    "savings pot",
    "business account",
    "junior account",
    "travel card",
    "virtual card",
    "metal plan",
    "crypto wallet",
    "mortgage",
)
_ANSWER = (
    "Open the app, go to {p} and choose '{a}'. It usually takes {n} minutes. Reference {ref}.",
    "You can do this in the app under {p} → {a}. If it fails, our team helps within {n} hours. Ref. {ref}.",
    "For your {p}: tap '{a}', confirm with your PIN, done. Fees: none for the first {n} times. Ref {ref}.",
)
NEW_PHRASING = "Where do I find the new zebra-striped loyalty voucher?"
_ACTIONS = ("Settings", "Cards", "Payments", "Help", "Statements", "Limits", "Security", "Top up")


def _banking_rows() -> list[tuple[str, str]]:
    with open(DATASETS / "banking77" / "train.csv", newline="", encoding="utf-8") as handle:
        return [(r["text"].strip(), r["category"]) for r in csv.DictReader(handle)]


def _ask(rng: random.Random, text: str) -> str:
    template = rng.choice(_ASK)
    product = rng.choice(_PRODUCTS)
    if template.startswith("About"):
        return template.format(product, text[0].lower() + text[1:])
    return template.format(text, product) if template.count("{}") == 2 else template.format(text)


def synthetic_rows(n: int = ENTRIES, seed: int = SEED) -> list[dict[str, str]]:
    """`n` varied FAQ rows (question, 0-2 paraphrases, answer) from Banking77 texts and templates."""
    rng = random.Random(seed)
    rows = _banking_rows()
    by_intent: dict[str, list[str]] = {}
    for text, intent in rows:
        by_intent.setdefault(intent, []).append(text)
    out = []
    for i in range(n):
        text, intent = rows[i % len(rows)]
        if i >= len(rows):
            text = _ask(rng, text)
        others = rng.sample(by_intent[intent], k=min(3, len(by_intent[intent])))
        paraphrases = [_ask(rng, o) for o in others if o != text][: rng.choice((0, 1, 1, 2))]
        answer = rng.choice(_ANSWER).format(p=rng.choice(_PRODUCTS), a=rng.choice(_ACTIONS), n=rng.randint(2, 30), ref=f"{intent}-{i}")
        out.append(
            {
                "id": f"e{i:05d}",
                "question": text,
                "answer": answer,
                "topic": intent.replace("_", "-"),
                "scope": "service",
                "lang": "en",
                "paraphrases": "|".join(p.replace("|", "/") for p in paraphrases),
            }
        )
    return out


def queries(n: int = QUERIES, seed: int = SEED) -> list[str]:
    """User-like questions: Banking77 test rows (not in the knowledge base), all different."""
    with open(DATASETS / "banking77" / "test.csv", newline="", encoding="utf-8") as handle:
        texts = [r["text"].strip() for r in csv.DictReader(handle)]
    return random.Random(seed).sample(sorted(set(texts)), n)


def write_csv(rows: Sequence[dict[str, str]], path: Path) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), delimiter=";")
        writer.writeheader()
        writer.writerows(rows)


def _texts(row: dict[str, str]) -> list[str]:
    return [row["question"], *[p for p in row["paraphrases"].split("|") if p]]


def _changed(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    rows = [dict(r) for r in rows]
    rows[len(rows) // 2]["paraphrases"] += "|Is there anything new about this?"
    return rows


def _percentiles(seconds: Sequence[float]) -> dict[str, float]:
    ms = np.asarray(seconds) * 1000
    return {"p50_ms": float(np.percentile(ms, 50)), "p99_ms": float(np.percentile(ms, 99)), "mean_ms": float(ms.mean())}


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def botkit_side(folder: Path, rows: list[dict[str, str]], asks: list[str]) -> dict[str, object]:
    """Ingest, re-ingest one entry and answer `asks` through botkit's public code path."""
    embedder = USEEmbedder(threads=1)
    embedder.embed(["warm up"])
    loaded_mb = _peak_mb()
    kb = folder / "knowledge"
    kb.mkdir()
    write_csv(rows, kb / "faq.csv")
    settings = Settings(index_dir=folder / "data")
    started = time.perf_counter()
    _, report = build(kb, settings, embedder=embedder)
    ingest = time.perf_counter() - started
    write_csv(_changed(rows), kb / "faq.csv")
    started = time.perf_counter()
    _, again = build(kb, settings, embedder=embedder)
    reingest = time.perf_counter() - started
    expected = len(_texts(_changed(rows)[len(rows) // 2])) + settings.index_answers  # the answer too when indexed
    assert (again.changed, again.embedded_texts) == (1, expected), again
    started = time.perf_counter()
    bot = open_bot(kb, settings, embedder=embedder)
    open_seconds = time.perf_counter() - started
    # One more changed entry, from saving the file to the running bot answering from its new text.
    rows = _changed(rows)
    middle = rows[len(rows) // 2]
    middle["paraphrases"] += f"|{NEW_PHRASING}"
    write_csv(rows, kb / "faq.csv")
    reload = bot.reload()
    answered = time.perf_counter()
    changed = bot.retriever.retrieve(NEW_PHRASING)
    change_to_answer = reload.seconds + time.perf_counter() - answered  # the on-disk index is updated after the swap
    assert changed.top is not None and changed.top.entry_id == middle["id"] and changed.top.matched == NEW_PHRASING, changed
    assert (reload.changed, reload.embedded_texts) == (1, expected + 1), reload
    others, asks = asks[: len(asks) // 2], asks[len(asks) // 2 :]
    for text in others[:20]:  # warm caches the way a running server has them
        bot.retriever.retrieve(text)
    retrieve, reply, reply_cpu = [], [], []
    for text in others[20:]:
        started = time.perf_counter()
        bot.retriever.retrieve(text)
        retrieve.append(time.perf_counter() - started)
    for i, text in enumerate(asks):
        started, cpu = time.perf_counter(), time.process_time()
        bot.reply(f"user-{i}", text)
        reply.append(time.perf_counter() - started)
        reply_cpu.append(time.process_time() - cpu)
    bot.close()
    return {
        "entries": report.entries,
        "texts": report.embedded_texts,
        "ingest_s": ingest,
        "ingest_entries_per_s": report.entries / ingest,
        "reingest_one_s": reingest,
        "open_bot_s": open_seconds,
        "change_to_answer_s": change_to_answer,
        "reload_index_s": reload.index_seconds,
        "regression": bot.retriever.fitter is not None,
        "retrieve": _percentiles(retrieve),
        "reply": _percentiles(reply),
        "reply_cpu": _percentiles(reply_cpu),
        "peak_rss_mb": _peak_mb(),
        "embedder_loaded_rss_mb": loaded_mb,
    }


def langchain_side(folder: Path, rows: list[dict[str, str]], asks: list[str]) -> dict[str, object]:
    """The same work with a plain LangChain + Chroma pipeline and the same embedder."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings
    from langchain_chroma import Chroma
    from langchain_core.embeddings import Embeddings

    embedder = USEEmbedder(threads=1)

    class USEEmbeddings(Embeddings):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return embedder.embed(texts).tolist()

        def embed_query(self, text: str) -> list[float]:
            return embedder.embed([text])[0].tolist()

    embedder.embed(["warm up"])
    loaded_mb = _peak_mb()
    client = chromadb.PersistentClient(path=str(folder / "chroma"), settings=ChromaSettings(anonymized_telemetry=False))
    store = Chroma("faq", embedding_function=USEEmbeddings(), client=client, collection_metadata={"hnsw:space": "cosine"})

    def add(batch: Sequence[dict[str, str]]) -> None:
        items = [(f"{r['id']}#{i}", t, {"entry_id": r["id"]}) for r in batch for i, t in enumerate(_texts(r))]
        store.add_texts([t for _, t, _ in items], metadatas=[m for _, _, m in items], ids=[i for i, _, _ in items])

    started = time.perf_counter()
    for start in range(0, len(rows), 1000):
        add(rows[start : start + 1000])
    ingest = time.perf_counter() - started
    changed = _changed(rows)[len(rows) // 2]
    started = time.perf_counter()
    store.delete(ids=[f"{changed['id']}#{i}" for i in range(len(_texts(rows[len(rows) // 2])))])
    add([changed])
    reingest = time.perf_counter() - started
    others, asks = asks[: len(asks) // 2], asks[len(asks) // 2 :]  # the botkit side's split
    for text in others[:20]:
        store.similarity_search_with_score(text, k=5)
    search, search_cpu = [], []
    for text in asks:
        started, cpu = time.perf_counter(), time.process_time()
        store.similarity_search_with_score(text, k=5)
        search.append(time.perf_counter() - started)
        search_cpu.append(time.process_time() - cpu)
    return {
        "entries": len(rows),
        "texts": sum(len(_texts(r)) for r in rows),
        "ingest_s": ingest,
        "ingest_entries_per_s": len(rows) / ingest,
        "reingest_one_s": reingest,
        "embed_query": _percentiles(search),
        "embed_query_cpu": _percentiles(search_cpu),
        "peak_rss_mb": _peak_mb(),
        "embedder_loaded_rss_mb": loaded_mb,
    }


SIDES = {"botkit": botkit_side, "langchain": langchain_side}


def run(quick: bool = False) -> dict[str, object]:
    """Both sides, each in a fresh process, on the same knowledge base and queries."""
    entries, asks = (2_000, 400) if quick else (ENTRIES, 2 * QUERIES)
    sides = {}
    for side in SIDES:
        with tempfile.NamedTemporaryFile(suffix=".json") as out:
            command = [sys.executable, "-m", "benchmarks.speed", "--side", side, "--entries", str(entries), "--queries", str(asks), "--out", out.name]
            subprocess.run(command, check=True, cwd=Path(__file__).resolve().parents[1])
            sides[side] = json.loads(Path(out.name).read_text())
    ratio = sides["botkit"]["reply"]["p50_ms"] / sides["langchain"]["embed_query"]["p50_ms"]
    cpu_ratio = sides["botkit"]["reply_cpu"]["p50_ms"] / sides["langchain"]["embed_query_cpu"]["p50_ms"]
    return {
        "entries": entries,
        "queries": asks,
        "quick": quick,
        "sides": sides,
        "reply_p50_vs_plain": ratio,
        "reply_cpu_p50_vs_plain": cpu_ratio,
        "targets": TARGETS,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 entries and 200 queries (and 200 for retrieval alone)")
    parser.add_argument("--side", choices=sorted(SIDES), help="(internal) run one side in this process")
    parser.add_argument("--entries", type=int, default=ENTRIES)
    parser.add_argument("--queries", type=int, default=2 * QUERIES, help="half for the replies and the plain queries, half for retrieval alone")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.side:
        with tempfile.TemporaryDirectory() as folder:
            result = SIDES[args.side](Path(folder), synthetic_rows(args.entries), queries(args.queries))
        args.out.write_text(json.dumps(result))
        return
    result = run(args.quick)
    write_result("speed", result)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
