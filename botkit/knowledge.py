"""Read and validate a knowledge base: YAML and CSV files of FAQ entries, plus `botkit.yaml`."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from botkit.errors import KnowledgeError, Problem
from botkit.policy.disclosure import says_it_is_a_bot
from botkit.strict_yaml import MAX_FILE_BYTES, compose_yaml, load_yaml, read_capped
from botkit.tabular import csv_rows
from botkit.types import SCOPES, Client, FaqEntry, Topic

CLIENT_FILE = "botkit.yaml"
REQUIRED = ("id", "question", "answer", "topic", "scope", "lang")
LISTS = ("paraphrases", "links", "quick_replies")
OPTIONAL = (*LISTS, "teaser")
CSV_COLUMNS = ("id", "question", "answer", "topic", "scope", "lang", "paraphrases")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_LANG = re.compile(r"^[a-z]{2,3}(-[A-Za-z]{2})?$")
_URL = re.compile(r"^https?://\S+$")


@dataclass(frozen=True)
class KnowledgeBase:
    """Validated entries of a knowledge base and the client they speak for."""

    path: Path
    entries: tuple[FaqEntry, ...]
    client: Client

    def by_id(self) -> dict[str, FaqEntry]:
        return {e.id: e for e in self.entries}

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(sorted({e.lang for e in self.entries}))


def load_knowledge(path: str | Path, *, max_bytes: int = MAX_FILE_BYTES) -> KnowledgeBase:
    """Load a knowledge file or folder; raise `KnowledgeError` listing every problem at once.

    Args:
        max_bytes: a file larger than this is refused (a `Problem`), not read.
    """
    root = Path(path)
    if not root.exists():
        raise KnowledgeError([Problem(str(root), None, None, "does not exist; pass a file or folder of FAQ entries")])
    files, linked_out = _discover(root)
    problems: list[Problem] = [
        Problem(str(p), None, None, "links to a file outside the knowledge folder and is not read; copy the file in instead")
        for p in linked_out
    ]
    named = (root if root.is_dir() else root.parent) / CLIENT_FILE
    if named.exists() and client_file(root) is None:
        problems.append(Problem(str(named), None, None, "links outside the knowledge folder and is not read; copy the file in instead"))
    if not files:
        problems.append(Problem(str(root), None, None, "holds no .yaml, .yml or .csv files"))
    raw: list[tuple[dict[str, Any], str, int, dict[str, int]]] = []
    for file in files:
        raw.extend(_read_file(file, problems, max_bytes))
    entries = validate_records(raw, problems)
    client_path = client_file(root)
    client = _read_client(client_path, problems, max_bytes) if client_path else Client()
    if problems:
        raise KnowledgeError(problems)
    return KnowledgeBase(path=root, entries=tuple(entries), client=client)


def knowledge_files(root: Path) -> list[Path]:
    """The entry files of a knowledge base, sorted; hidden folders, `botkit.yaml` and links out of the folder skipped."""
    return _discover(root)[0]


def _discover(root: Path) -> tuple[list[Path], list[Path]]:
    """(entry files inside `root`, entry-file names that are links to files outside it)."""
    if root.is_file():
        return [root], []
    inside: list[Path] = []
    outside: list[Path] = []
    base = root.resolve()
    for p in sorted(root.rglob("*")):
        if (
            p.suffix.lower() in {".yaml", ".yml", ".csv"}
            and p.name != CLIENT_FILE
            and not any(part.startswith(".") for part in p.relative_to(root).parts)
        ):
            (inside if p.resolve().is_relative_to(base) else outside).append(p)
    return [p for p in inside if p.is_file()], outside


def client_file(root: Path) -> Path | None:
    """The `botkit.yaml` a knowledge base uses, if present and inside its folder."""
    folder = root if root.is_dir() else root.parent
    path = folder / CLIENT_FILE
    if not path.is_file() or not path.resolve().is_relative_to(folder.resolve()):
        return None
    return path


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _decode(path: Path, problems: list[Problem], max_bytes: int) -> str | None:
    try:
        data = read_capped(path, max_bytes, _display(path))
    except KnowledgeError as exc:
        problems.extend(exc.problems)
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        problems.append(
            Problem(_display(path), line, None, "is not UTF-8; save it as 'CSV UTF-8' or UTF-8 text")
        )
        return None


# A raw record: field values, file name, line of the record, line of each field.
RawRecord = tuple[dict[str, Any], str, int, dict[str, int]]


def _read_file(path: Path, problems: list[Problem], max_bytes: int) -> list[RawRecord]:
    text = _decode(path, problems, max_bytes)
    if text is None:
        return []
    if path.suffix.lower() != ".csv":
        return list(_read_yaml(text, _display(path), problems))
    try:
        return list(_read_csv(text, _display(path), problems))
    except csv.Error as exc:
        problems.append(Problem(_display(path), None, None, f"is not readable CSV ({exc})"))
        return []


def _read_yaml(text: str, name: str, problems: list[Problem]) -> Iterator[RawRecord]:
    try:
        root = compose_yaml(text, name)
    except KnowledgeError as exc:
        problems.extend(exc.problems)
        return
    if root is None:
        return
    if not isinstance(root, yaml.SequenceNode):
        problems.append(Problem(name, root.start_mark.line + 1, None, "must be a list of entries (each starting with '- id: ...')"))
        return
    for item in root.value:
        line = item.start_mark.line + 1
        if not isinstance(item, yaml.MappingNode):
            problems.append(Problem(name, line, None, "an entry must be a mapping of fields"))
            continue
        values: dict[str, Any] = {}
        lines: dict[str, int] = {}
        for key_node, value_node in item.value:
            key = str(key_node.value)
            lines[key] = key_node.start_mark.line + 1
            values[key] = _node_value(value_node)
        yield values, name, line, lines


def _node_value(node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return None if node.tag.endswith(":null") else str(node.value)
    if isinstance(node, yaml.SequenceNode):
        return [_node_value(n) for n in node.value]
    return {str(k.value): _node_value(v) for k, v in node.value}


def _read_csv(text: str, name: str, problems: list[Problem]) -> Iterator[RawRecord]:
    header, rows = csv_rows(text)
    missing = [c for c in CSV_COLUMNS if c not in header and c != "paraphrases"]
    if missing:
        problems.append(
            Problem(name, 1, None, f"header lacks column(s) {', '.join(missing)}; expected {','.join(CSV_COLUMNS)}")
        )
        return
    for line, row in rows:
        values: dict[str, Any] = {}
        for column, cell in zip(header, row):
            if column in REQUIRED or column == "teaser":
                values[column] = cell
            elif column in LISTS:
                values[column] = [part.strip() for part in cell.split("|") if part.strip()]
        yield values, name, line, {}


def validate_records(raw: list[RawRecord], problems: list[Problem]) -> list[FaqEntry]:
    """Turn raw records into entries, appending a `Problem` for each invalid field or duplicate id."""
    entries: list[FaqEntry] = []
    first_seen: dict[str, str] = {}
    for values, name, line, lines in raw:
        before = len(problems)

        def report(field: str | None, message: str) -> None:
            problems.append(Problem(name, lines.get(field or "", line), field, message))

        for key in values:
            if key not in REQUIRED and key not in OPTIONAL:
                report(key, f"is not a known field (known: {', '.join(REQUIRED + OPTIONAL)})")
        clean: dict[str, Any] = {}
        for key in (*REQUIRED, "teaser"):
            value = values.get(key)
            if key not in values or value is None:
                if key in REQUIRED:
                    report(key, "is missing")
                continue
            if not isinstance(value, str):
                report(key, "must be text")
                continue
            clean[key] = value.strip()
            if key in REQUIRED and not clean[key]:
                report(key, "is empty")
        for key in LISTS:
            value = values.get(key) or []
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                report(key, "must be a list of texts")
                value = []
            clean[key] = tuple(v.strip() for v in value if v.strip())
        entry_id = clean.get("id", "")
        if entry_id and not _SLUG.match(entry_id):
            report("id", f"{entry_id!r} is not a slug (use lower-case letters, digits, '-' and '_')")
        if entry_id:
            here = f"{name}:{line}"
            if entry_id in first_seen:
                report("id", f"duplicate id {entry_id!r} (first defined at {first_seen[entry_id]})")
            else:
                first_seen[entry_id] = here
        scope = clean.get("scope", "")
        if scope and scope not in SCOPES:
            report("scope", f"{scope!r} is unknown; use 'service' or 'marketing'")
        if clean.get("lang") and not _LANG.match(clean["lang"]):
            report("lang", f"{clean['lang']!r} is not an ISO language code such as 'de' or 'en'")
        for link in clean["links"]:
            if not _URL.match(link):
                report("links", f"{link!r} is not an http(s) URL")
        if clean.get("teaser") and scope == "service":
            report("teaser", "is promotional content; only marketing entries may have one")
        if len(problems) == before:
            entries.append(FaqEntry(**clean, source=f"{name}:{line}"))
    return entries


def _read_client(path: Path, problems: list[Problem], max_bytes: int) -> Client:
    name = _display(path)
    text = _decode(path, problems, max_bytes)
    if text is None:
        return Client()
    try:
        data = load_yaml(text, name) or {}
    except KnowledgeError as exc:
        problems.extend(exc.problems)
        return Client()
    if not isinstance(data, dict):
        problems.append(Problem(name, 1, None, "must be a mapping with 'client' and 'topics'"))
        return Client()
    client = data.get("client") or {}
    topics: list[Topic] = []
    for i, raw in enumerate(data.get("topics") or []):
        try:
            topics.append(
                Topic(
                    id=str(raw["id"]),
                    title=dict(raw["title"]),
                    description=dict(raw["description"]),
                    version=str(raw["version"]),
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            problems.append(
                Problem(name, None, f"topics[{i}]", f"needs id, title, description and version ({exc})")
            )
    disclosure = {str(k): str(v) for k, v in (client.get("disclosure") or {}).items()}
    for lang, wording in disclosure.items():
        try:
            shown = wording.format(bot="Lina", client="Example", capabilities="")
        except (KeyError, IndexError, ValueError):
            problems.append(
                Problem(name, None, f"client.disclosure.{lang}", "may only use the placeholders {bot}, {client} and {capabilities}")
            )
            continue
        if not says_it_is_a_bot(shown):
            problems.append(
                Problem(name, None, f"client.disclosure.{lang}", "must tell the user they are talking to a bot (e.g. 'Ich bin ein Bot')")
            )
    return Client(
        name=str(client.get("name", Client.name)),
        bot_name=str(client.get("bot_name", Client.bot_name)),
        contact=str(client.get("contact", "")),
        privacy_url=str(client.get("privacy_url", "")),
        topics=tuple(topics),
        disclosure=disclosure,
        capabilities={str(k): str(v) for k, v in (client.get("capabilities") or {}).items()},
    )
