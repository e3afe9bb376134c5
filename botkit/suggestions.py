"""LLM suggestions a consultant reviews: paraphrases for entries and test questions for cases files.

Suggestions are written to review files, never into the knowledge base or an evaluation
file: a person copies the good ones over. By default they go to `.review/` inside the
knowledge folder, which `load_knowledge` skips (hidden folder).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import yaml

from botkit.errors import ConfigError, LLMError
from botkit.knowledge import KnowledgeBase, knowledge_files
from botkit.protocols import ChatModel
from botkit.tabular import spreadsheet_safe
from botkit.types import FaqEntry

REVIEW_FOLDER = ".review"
QUESTION_COLUMNS = ("question", "expected_id", "lang", "review")
# Calls that fail like this will fail for every entry: stop instead of writing an empty file.
_FATAL = {"auth", "unreachable", "bad_request"}
_LANGUAGES = {"de": "German", "en": "English"}
_LIST_MARK = re.compile(r"^\s*(?:[-*•]|\d+[.)]|Q\d*:)\s*")

PARAPHRASE_PROMPT = """\
You help maintain the FAQ of a customer-service chat bot. Write {n} different ways a \
customer might ask the FAQ question below in a chat, in {language}: short, everyday \
wording, some casual. Keep the meaning; do not answer. One per line, no numbering."""

QUESTION_PROMPT = """\
You write test cases for a customer-service chat bot. Write {n} realistic customer \
messages, in {language}, that the FAQ answer below answers. Word them differently from \
the listed phrasings, as customers really write (context, typos, several sentences). \
One message per line, no numbering."""


@dataclass(frozen=True)
class Suggestions:
    """What the model proposed for one entry; `error` says why there is nothing."""

    entry: FaqEntry
    texts: tuple[str, ...]
    error: str = ""


def suggest_paraphrases(model: ChatModel, entries: Sequence[FaqEntry], *, per_entry: int = 3) -> list[Suggestions]:
    """New phrasings of each entry's question, without ones the entry already has."""
    return [_suggest(model, PARAPHRASE_PROMPT, e, per_entry) for e in entries]


def suggest_questions(model: ChatModel, entries: Sequence[FaqEntry], *, per_entry: int = 2) -> list[Suggestions]:
    """Test questions each entry should answer, for seeding a cases file."""
    return [_suggest(model, QUESTION_PROMPT, e, per_entry) for e in entries]


def default_review_path(knowledge: KnowledgeBase, kind: str, today: date) -> Path:
    """`<knowledge folder>/.review/<kind>-<date>.<yaml|csv>`."""
    folder = knowledge.path if knowledge.path.is_dir() else knowledge.path.parent
    suffix = "csv" if kind == "questions" else "yaml"
    return folder / REVIEW_FOLDER / f"{kind}-{today.isoformat()}.{suffix}"


def write_paraphrase_review(path: Path, knowledge: KnowledgeBase, found: Sequence[Suggestions], model_id: str, today: date) -> Path:
    """Write paraphrase suggestions as YAML for review; refuses paths the knowledge base would load."""
    check_review_path(path, knowledge)
    header = (
        f"# Paraphrase suggestions by {model_id}, {today.isoformat()}: NOT part of the knowledge base.\n"
        "# Copy the good ones into the entry's `paraphrases` (see `source`), then run `botkit build`.\n"
    )
    items = []
    for item in found:
        record: dict[str, object] = {"id": item.entry.id, "source": item.entry.source, "question": item.entry.question}
        record["suggestions"] = list(item.texts)
        if item.error:
            record["error"] = item.error
        items.append(record)
    body = yaml.safe_dump({"entries": items}, allow_unicode=True, sort_keys=False, width=110)
    return _write(path, header + body)


def write_question_review(path: Path, knowledge: KnowledgeBase, found: Sequence[Suggestions], model_id: str) -> Path:
    """Write test questions as CSV in the cases format plus a `review` column.

    The cases loader rejects the extra column, so the file cannot be evaluated unreviewed:
    delete the rows you reject and the column, then append the rows to a cases file.
    """
    check_review_path(path, knowledge)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(QUESTION_COLUMNS)
    for item in found:
        for text in item.texts:
            writer.writerow([spreadsheet_safe(v) for v in (text, item.entry.id, item.entry.lang, f"unreviewed ({model_id})")])
    return _write(path, out.getvalue())


def _suggest(model: ChatModel, prompt: str, entry: FaqEntry, count: int) -> Suggestions:
    system = prompt.format(n=count, language=_LANGUAGES.get(entry.lang, entry.lang))
    known = "\n".join(f"- {p}" for p in entry.phrasings)
    user = f"FAQ question: {entry.question}\nPhrasings it already has:\n{known}\nFAQ answer:\n{entry.answer}"
    try:
        reply = model.complete(system, user, max_tokens=40 * count + 40)
    except LLMError as exc:
        if exc.kind in _FATAL:
            raise
        return Suggestions(entry, (), f"llm_{exc.kind}")
    return Suggestions(entry, tuple(_lines(reply, entry.phrasings, count)))


def _lines(reply: str, existing: Sequence[str], count: int) -> list[str]:
    """Usable lines of a reply: list marks and quotes removed, duplicates and known phrasings dropped."""
    seen = {p.casefold() for p in existing}
    lines: list[str] = []
    for raw in reply.splitlines():
        line = _LIST_MARK.sub("", raw).strip().strip("\"'„“”").strip()
        if not line or len(line) > 300 or line.casefold() in seen:
            continue
        seen.add(line.casefold())
        lines.append(line)
    return lines[:count]


def check_review_path(path: Path, knowledge: KnowledgeBase) -> None:
    """Raise `ConfigError` if a file at `path` would be loaded as part of the knowledge base."""
    root = knowledge.path if knowledge.path.is_dir() else knowledge.path.parent
    candidate = path.resolve()
    loaded = {p.resolve() for p in knowledge_files(knowledge.path)}
    inside = candidate.is_relative_to(root.resolve())
    hidden = inside and any(part.startswith(".") for part in candidate.relative_to(root.resolve()).parts[:-1])
    would_load = inside and not hidden and candidate.suffix.lower() in {".yaml", ".yml", ".csv"}
    if candidate in loaded or would_load:
        raise ConfigError(f"{path} would become part of the knowledge base; write suggestions outside it or into its {REVIEW_FOLDER}/ folder")


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
