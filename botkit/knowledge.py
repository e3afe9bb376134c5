"""Read and validate a knowledge base: YAML and CSV files of FAQ entries, plus `botkit.yaml`."""

from __future__ import annotations

import csv
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import yaml

from botkit.channels.profiles import HouseRules
from botkit.errors import ConfigError, KnowledgeError, Problem
from botkit.hours import DAYS, BusinessHours, parse_day, parse_holiday, zone
from botkit.policy.disclosure import says_it_is_a_bot
from botkit.policy.wording import TEXTS, TONES, allowed_placeholders, check_override
from botkit.strict_yaml import MAX_FILE_BYTES, compose_yaml
from botkit.tabular import csv_rows
from botkit.textfile import read_text_file
from botkit.types import SCOPES, Client, FaqEntry, Topic

CLIENT_FILE = "botkit.yaml"
REQUIRED = ("id", "question", "answer", "topic", "scope", "lang")
LISTS = ("paraphrases", "links", "quick_replies")
OPTIONAL = (*LISTS, "teaser")
CSV_COLUMNS = ("id", "question", "answer", "topic", "scope", "lang", "paraphrases")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_LANG = re.compile(r"^[a-z]{2,3}(-[A-Za-z]{2})?$")
_URL = re.compile(r"^https?://\S+$")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class KnowledgeBase:
    """Validated entries of a knowledge base and the client they speak for."""

    path: Path
    entries: tuple[FaqEntry, ...]
    client: Client
    notices: tuple[str, ...] = ()  # e.g. a file read as Windows-1252 rather than UTF-8

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
        Problem(str(p), None, None, "links to a file outside the knowledge folder and is not read; copy the file in instead") for p in linked_out
    ]
    named = (root if root.is_dir() else root.parent) / CLIENT_FILE
    if named.exists() and client_file(root) is None:
        problems.append(Problem(str(named), None, None, "links outside the knowledge folder and is not read; copy the file in instead"))
    if not files:
        problems.append(Problem(str(root), None, None, "holds no .yaml, .yml or .csv files"))
    raw: list[tuple[dict[str, Any], str, int, dict[str, int]]] = []
    notices: list[str] = []
    for file in files:
        raw.extend(_read_file(file, problems, max_bytes, notices))
    entries = validate_records(raw, problems)
    client_path = client_file(root)
    client = _read_client(client_path, problems, max_bytes, notices) if client_path else Client()
    problems.extend(_unconsentable(entries, client))
    if problems:
        raise KnowledgeError(problems)
    return KnowledgeBase(path=root, entries=tuple(entries), client=client, notices=tuple(notices))


def _unconsentable(entries: list[FaqEntry], client: Client) -> list[Problem]:
    """Marketing entries whose topic nobody can opt into: they could never be promoted, so it is a mistake."""
    topics = sorted(t.id for t in client.topics)
    problems = []
    for entry in entries:
        if entry.scope == "marketing" and entry.topic not in topics:
            file, _, line = entry.source.rpartition(":")
            known = f"known: {', '.join(topics)}" if topics else f"{CLIENT_FILE} defines none"
            problems.append(
                Problem(
                    file or entry.source,
                    int(line) if line.isdigit() else None,
                    "topic",
                    f"marketing entry {entry.id!r} has topic {entry.topic!r}, which is not a consent topic ({known}); "
                    f"add it under 'topics:' in {CLIENT_FILE} or make the entry 'service'",
                )
            )
    return problems


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
        if p.suffix.lower() in {".yaml", ".yml", ".csv"} and p.name != CLIENT_FILE and not any(part.startswith(".") for part in p.relative_to(root).parts):
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


def _decode(path: Path, problems: list[Problem], max_bytes: int, notices: list[str]) -> str | None:
    try:
        read = read_text_file(path, max_bytes=max_bytes, name=_display(path))
    except KnowledgeError as exc:
        problems.extend(exc.problems)
        return None
    if read.notice:
        log.warning(read.notice)
        notices.append(read.notice)
    return read.text


# A raw record: field values, file name, line of the record, line of each field.
RawRecord = tuple[dict[str, Any], str, int, dict[str, int]]


def _read_file(path: Path, problems: list[Problem], max_bytes: int, notices: list[str]) -> list[RawRecord]:
    text = _decode(path, problems, max_bytes, notices)
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
        problems.append(Problem(name, 1, None, f"header lacks column(s) {', '.join(missing)}; expected {','.join(CSV_COLUMNS)}"))
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


def _read_client(path: Path, problems: list[Problem], max_bytes: int, notices: list[str]) -> Client:
    name = _display(path)
    text = _decode(path, problems, max_bytes, notices)
    if text is None:
        return Client()
    try:
        root = compose_yaml(text, name)
    except KnowledgeError as exc:
        problems.extend(exc.problems)
        return Client()
    if root is None:
        return Client()
    if not isinstance(root, yaml.MappingNode):
        problems.append(Problem(name, root.start_mark.line + 1, None, f"must be a mapping of {', '.join(CLIENT_SECTIONS)}"))
        return Client()
    return _ClientFile(name, root, problems).client()


CLIENT_SECTIONS = ("client", "topics", "hours", "texts", "house_rules")
CLIENT_FIELDS = (
    "name",
    "bot_name",
    "contact",
    "phone",
    "email",
    "privacy_url",
    "tone",
    "handover_minutes",
    "capabilities",
    "disclosure",
)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9][0-9 ()/.-]{3,}[0-9]$")
_RULE_TYPES = {f.name: type(f.default) for f in fields(HouseRules) if f.name != "list_label"}


class _ClientFile:
    """`botkit.yaml` as plain values plus the line of every key, so each problem names its line."""

    def __init__(self, name: str, root: yaml.MappingNode, problems: list[Problem]) -> None:
        self.name = name
        self.problems = problems
        self.lines: dict[str, int] = {}
        self.data: dict[str, Any] = self._value(root, "")

    def client(self) -> Client:
        self._known("", self.data, CLIENT_SECTIONS)
        section = self._mapping("client")
        self._known("client", section, CLIENT_FIELDS)
        texts = self._texts(section)
        phone = self._checked("client.phone", _PHONE, "is not a phone number like '0800 123 4567' or '+49 30 1234567'")
        email = self._checked("client.email", _EMAIL, "is not an e-mail address like 'service@example.org'")
        return Client(
            name=self._text("client.name", Client.name),
            bot_name=self._text("client.bot_name", Client.bot_name),
            contact=self._text("client.contact") or ", ".join(w for w in (phone, email) if w),
            phone=phone,
            email=email,
            privacy_url=self._checked("client.privacy_url", _URL, "is not an http(s) URL"),
            tone="du" if self._tone() == "du" else "sie",
            handover_minutes=self._minutes(),
            topics=self._topics(),
            hours=self._hours(),
            texts=texts,
            house_rules=self._house_rules(),
        )

    def report(self, field: str, message: str) -> None:
        """A problem at the line of `field` (or of the nearest key above it)."""
        key = field
        while key and key not in self.lines:
            key = key.rsplit(".", 1)[0] if "." in key else ""
        self.problems.append(Problem(self.name, self.lines.get(key), field or None, message))

    def _value(self, node: yaml.Node, path: str) -> Any:
        if isinstance(node, yaml.MappingNode):
            result: dict[str, Any] = {}
            for key_node, value_node in node.value:
                sub = f"{path}.{key_node.value}" if path else str(key_node.value)
                self.lines[sub] = key_node.start_mark.line + 1
                result[str(key_node.value)] = self._value(value_node, sub)
            return result
        if isinstance(node, yaml.SequenceNode):
            items = []
            for i, item in enumerate(node.value):
                self.lines[f"{path}[{i}]"] = item.start_mark.line + 1
                items.append(self._value(item, f"{path}[{i}]"))
            return items
        return None if node.tag.endswith(":null") else str(node.value)

    def _get(self, field: str) -> Any:
        value: Any = self.data
        for part in field.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        return value

    def _known(self, field: str, values: dict[str, Any], known: tuple[str, ...]) -> None:
        for key in values:
            if key not in known:
                self.report(f"{field}.{key}" if field else key, f"is not a known key (known: {', '.join(known)})")

    def _mapping(self, field: str) -> dict[str, Any]:
        value = self._get(field)
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.report(field, "must be a mapping of keys and values")
            return {}
        return value

    def _text(self, field: str, default: str = "") -> str:
        value = self._get(field)
        if value is None:
            return default
        if not isinstance(value, str):
            self.report(field, "must be text")
            return default
        return value.strip()

    def _checked(self, field: str, pattern: re.Pattern[str], message: str) -> str:
        value = self._text(field)
        if value and not pattern.match(value):
            self.report(field, f"{value!r} {message}")
            return ""
        return value

    def _tone(self) -> str:
        tone = self._text("client.tone", "sie").lower()
        if tone not in TONES:
            self.report("client.tone", f"{tone!r} is not a tone; use 'sie' or 'du'")
        return tone

    def _minutes(self) -> float:
        raw = self._text("client.handover_minutes")
        if not raw:
            return Client.handover_minutes
        try:
            minutes = float(raw)
        except ValueError:
            minutes = 0
        if not 0 < minutes <= 24 * 60:
            self.report("client.handover_minutes", f"{raw!r} must be a number of minutes from 1 to 1440")
            return Client.handover_minutes
        return minutes

    def _topics(self) -> tuple[Topic, ...]:
        raw_topics = self._get("topics") or []
        if not isinstance(raw_topics, list):
            self.report("topics", "must be a list of topics (each starting with '- id: ...')")
            return ()
        topics: list[Topic] = []
        for i, raw in enumerate(raw_topics):
            try:
                topics.append(Topic(id=str(raw["id"]), title=dict(raw["title"]), description=dict(raw["description"]), version=str(raw["version"])))
            except (KeyError, TypeError, ValueError) as exc:
                self.report(f"topics[{i}]", f"needs id, title, description and version ({exc})")
        return tuple(topics)

    def _hours(self) -> BusinessHours | None:
        if self._get("hours") is None:
            return None
        config = self._mapping("hours")
        self._known("hours", config, ("timezone", *DAYS, "holidays"))
        before = len(self.problems)
        timezone = self._text("hours.timezone")
        if not timezone:
            self.report("hours.timezone", "is missing; name the team's time zone, e.g. 'Europe/Berlin'")
        else:
            try:
                zone(timezone)
            except ConfigError as exc:
                self.report("hours.timezone", str(exc))
        week: list[tuple[tuple[int, int], ...]] = []
        for day in DAYS:
            try:
                week.append(parse_day(self._text(f"hours.{day}")))
            except ConfigError as exc:
                self.report(f"hours.{day}", str(exc))
                week.append(())
        raw_holidays = config.get("holidays") or []
        if not isinstance(raw_holidays, list):
            self.report("hours.holidays", "must be a list of dates like [2026-12-24, 2026-12-25]")
            raw_holidays = []
        holidays = set()
        for i, raw in enumerate(raw_holidays):
            try:
                holidays.add(parse_holiday(raw))
            except ConfigError as exc:
                self.report(f"hours.holidays[{i}]", str(exc))
        if not any(week) and len(self.problems) == before:
            self.report("hours", "opens on no day; give ranges such as mon: \"08:00-18:00\", or remove 'hours'")
        if len(self.problems) > before:
            return None
        return BusinessHours(timezone, tuple(week), frozenset(holidays))

    def _texts(self, section: dict[str, Any]) -> dict[str, dict[str, str]]:
        """`texts:` overrides, plus the older `client.disclosure` and `client.capabilities`."""
        texts: dict[str, dict[str, str]] = {}
        sources = []
        for key in self._mapping("texts"):
            if key in TEXTS:
                sources.append((f"texts.{key}", key, self._mapping(f"texts.{key}")))
            else:
                self.report(f"texts.{key}", f"is not a text of the bot (known: {', '.join(sorted(TEXTS))})")
        sources += [(f"client.{key}", key, self._mapping(f"client.{key}")) for key in ("disclosure", "capabilities") if key in section]
        for field, key, per_lang in sources:
            for lang, wording in per_lang.items():
                where = f"{field}.{lang}"
                if not isinstance(wording, str):
                    self.report(where, "must be text")
                    continue
                if not _LANG.match(lang):
                    self.report(where, f"{lang!r} is not an ISO language code such as 'de' or 'en'")
                    continue
                problem = check_override(key, wording)
                if problem is None and lang in texts.get(key, {}):
                    problem = f"is also set as texts.{key}.{lang}; keep one"
                if problem is None and TEXTS[key].disclosing and not says_it_is_a_bot(_sample(key, wording)):
                    problem = "must tell the user they are talking to a bot (e.g. 'Ich bin ein Bot'), EU AI Act Art. 50"
                if problem is not None:
                    self.report(where, problem)
                    continue
                texts.setdefault(key, {})[lang] = wording.strip()
        return texts

    def _house_rules(self) -> HouseRules | None:
        if self._get("house_rules") is None:
            return None
        config = self._mapping("house_rules")
        values: dict[str, Any] = {}
        for key, raw in config.items():
            field = f"house_rules.{key}"
            if key == "list_label":
                self.report(field, "is worded per language: set it under texts: list_label: {de: ..., en: ...}")
            elif key not in _RULE_TYPES:
                self.report(field, f"is not a known rule (known: {', '.join(_RULE_TYPES)})")
            elif not isinstance(raw, str) or (parsed := _typed(raw, _RULE_TYPES[key])) is None:
                self.report(field, f"{raw!r} must be {_RULE_TYPES[key].__name__}")
            else:
                values[key] = parsed
        try:
            return HouseRules(**values)
        except ConfigError as exc:
            self.report("house_rules", str(exc))
            return None


def _typed(raw: str, kind: type) -> bool | int | float | None:
    """A YAML scalar as a rule's type, None if it is not one."""
    text = raw.strip().lower()
    if kind is bool:
        return {"true": True, "false": False, "yes": True, "no": False}.get(text)
    try:
        return int(text) if kind is int else float(text)
    except ValueError:
        return None


def _sample(key: str, wording: str) -> str:
    """An override filled with sample values, to check what it says."""
    values = {name: "" for name in allowed_placeholders(key)}
    return wording.format_map({**values, "bot": "Lina", "client": "Example"})
