"""Read hand-written test data: single-turn cases (CSV/YAML) and conversation scripts (YAML).

Every problem is reported with file, line and field, all at once, as an `EvaluationDataError` (a `KnowledgeError`).
Unknown expectation keys are errors, so a typo never turns into a silently passing check.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import ConstructorError, SafeConstructor

from botkit.channels import CHANNELS
from botkit.errors import EvaluationDataError, KnowledgeError, Problem
from botkit.knowledge import KnowledgeBase
from botkit.tabular import csv_rows
from botkit.textfile import read_text_file

CASE_COLUMNS = ("question", "expected_id", "lang")
CONVERSATION_KEYS = ("name", "channel", "consents", "turns")
TURN_KEYS = ("user", "campaign", "person", "wait", "expect")
STEP_KINDS = ("user", "campaign", "person", "wait")
CAMPAIGN_KEYS = ("topic", "text")
CONSENT_STATES = ("granted", "withdrawn")
_ANY_STEP = frozenset(STEP_KINDS)
# Expectation key -> (value kind, the step kinds it can be checked on)
EXPECTATIONS: dict[str, tuple[str, frozenset[str]]] = {
    "disclosure": ("bool", frozenset({"user"})),
    "entry": ("text", frozenset({"user"})),
    "handover": ("bool", frozenset({"user"})),
    "clarify": ("bool", frozenset({"user"})),
    "no_marketing": ("bool", frozenset({"user"})),
    "consent": ("consent", frozenset({"user", "campaign"})),
    "delivered": ("bool", frozenset({"campaign"})),
    "waiting": ("bool", _ANY_STEP),  # a handover waits for a person
    "with_person": ("bool", _ANY_STEP),  # a person has the conversation
}
PERSON_ACTIONS = ("take", "release")  # `person: take` / `person: release`; any other text is a message a person sends
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|min|h)\s*$")
_LANG = re.compile(r"^[a-z]{2,3}(-[A-Za-z]{2})?$")
_UNREADABLE = object()
log = logging.getLogger(__name__)
Report = Callable[..., None]
"""`report(field, message, line=None)`: record a problem of the item being read."""


@dataclass(frozen=True)
class Case:
    """One question; `expected_id` None means the bot must hand over."""

    question: str
    expected_id: str | None
    lang: str
    source: str  # "file:line"


@dataclass(frozen=True)
class Campaign:
    """A marketing message sent to the user on a topic (a campaign step of a script)."""

    topic: str
    text: str


@dataclass(frozen=True)
class Turn:
    """One step of a script: a user message, a campaign, a person's action or a wait, and what must hold after it."""

    user: str | None
    campaign: Campaign | None
    expect: dict[str, Any]
    source: str
    person: str | None = None  # "take", "release", or a message the person sends
    wait: float | None = None  # seconds on the test clock

    @property
    def kind(self) -> str:
        """ "user", "campaign", "person" or "wait"."""
        if self.user is not None:
            return "user"
        if self.campaign is not None:
            return "campaign"
        return "person" if self.person is not None else "wait"


@dataclass(frozen=True)
class Conversation:
    """A scripted conversation on one channel, with the topics the user opted into first."""

    name: str
    channel: str
    consents: tuple[str, ...]
    turns: tuple[Turn, ...]
    source: str


def load_cases(path: str | Path) -> list[Case]:
    """Read cases from a CSV (`question,expected_id,lang`) or YAML file (a list with those keys); UTF-8 or Windows-1252."""
    path = Path(path)
    problems: list[Problem] = []
    text = _read_text(path, problems)
    cases: list[Case] = []
    if text is not None:
        if path.suffix.lower() == ".csv":
            rows = _csv_rows(text, path.name, problems)
        else:
            rows = _yaml_case_rows(text, path.name, problems)
        cases = list(_validate_cases(rows, path.name, problems))
        if not cases and not problems:
            problems.append(Problem(path.name, None, None, "holds no cases"))
    if problems:
        raise EvaluationDataError(problems)
    return cases


def load_conversations(path: str | Path) -> list[Conversation]:
    """Read conversation scripts from YAML: `conversations: [{name, channel, consents, turns}]`."""
    path = Path(path)
    problems: list[Problem] = []
    text = _read_text(path, problems)
    conversations: list[Conversation] = []
    if text is not None:
        root = _compose(text, path.name, problems)
        if root is not None:
            conversations = _conversations(root, path.name, problems)
    if problems:
        raise EvaluationDataError(problems)
    return conversations


def is_conversation_file(path: str | Path) -> bool:
    """True if a YAML file holds conversation scripts (a top-level `conversations:` key)."""
    path = Path(path)
    if path.suffix.lower() not in {".yaml", ".yml"}:
        return False
    problems: list[Problem] = []
    text = _read_text(path, problems)
    root = _compose(text, path.name, problems) if text is not None else None
    if problems:
        raise EvaluationDataError(problems)
    return isinstance(root, yaml.MappingNode) and any(k.value == "conversations" for k, _ in root.value)


def check_references(knowledge: KnowledgeBase, items: Iterable[Case | Conversation]) -> None:
    """Raise `EvaluationDataError` if test data names entries or consent topics the knowledge base lacks."""
    ids = {e.id for e in knowledge.entries}
    topics = {t.id for t in knowledge.client.topics}
    problems: list[Problem] = []

    def place(source: str) -> tuple[str, int | None]:
        name, _, line = source.rpartition(":")
        return name, int(line) if line.isdigit() else None

    def unknown(source: str, field: str, value: str, known: set[str], what: str) -> None:
        if value not in known:
            hint = f"known: {', '.join(sorted(known))}" if len(known) <= 12 else f"check it against the {len(known)} in the knowledge base"
            problems.append(Problem(*place(source), field, f"{value!r} is not a known {what} ({hint})"))

    for item in items:
        if isinstance(item, Case):
            if item.expected_id is not None:
                unknown(item.source, "expected_id", item.expected_id, ids, "entry id")
            continue
        for topic in item.consents:
            unknown(item.source, "consents", topic, topics, "consent topic")
        for turn in item.turns:
            if "entry" in turn.expect:
                unknown(turn.source, "entry", turn.expect["entry"], ids, "entry id")
            for topic in turn.expect.get("consent", {}):
                unknown(turn.source, "consent", topic, topics, "consent topic")
            if turn.campaign is not None:
                unknown(turn.source, "campaign", turn.campaign.topic, topics, "consent topic")
    if problems:
        raise EvaluationDataError(problems)


def _read_text(path: Path, problems: list[Problem]) -> str | None:
    """The file's text (UTF-8, or Windows-1252 with a logged notice); None with a problem if unreadable."""
    if not path.is_file():
        problems.append(Problem(str(path), None, None, "does not exist; pass a .csv or .yaml test file"))
        return None
    try:
        read = read_text_file(path, name=path.name)
    except KnowledgeError as exc:
        problems.extend(exc.problems)
        return None
    if read.notice:
        log.warning(read.notice)
    return read.text


# A raw case row: field values, line of the row, line of each field.
_Row = tuple[dict[str, Any], int, dict[str, int]]


def _csv_rows(text: str, name: str, problems: list[Problem]) -> Iterator[_Row]:
    header, rows = csv_rows(text)
    wrong = sorted(set(header) ^ set(CASE_COLUMNS))
    if wrong:
        problems.append(Problem(name, 1, None, f"header must be {','.join(CASE_COLUMNS)} (wrong or missing: {', '.join(wrong)})"))
        return
    for line, row in rows:
        if len(row) != len(header):
            problems.append(Problem(name, line, None, f"has {len(row)} cells, the header {len(header)}; quote cells with commas"))
            continue
        yield dict(zip(header, row)), line, {}


def _compose(text: str, name: str, problems: list[Problem]) -> yaml.Node | None:
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problems.append(Problem(name, mark.line + 1 if mark else None, None, f"is not valid YAML ({getattr(exc, 'problem', exc)})"))
        return None


def _value(node: yaml.Node) -> Any:
    try:
        return SafeConstructor().construct_object(node, deep=True)
    except ConstructorError:  # e.g. a list as a mapping key: the caller's type check reports it
        return _UNREADABLE


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _mapping(node: yaml.Node) -> dict[str, tuple[yaml.Node, int]] | None:
    """Keys of a mapping node -> (value node, line of the key); None if not a mapping."""
    if not isinstance(node, yaml.MappingNode):
        return None
    return {str(k.value): (v, _line(k)) for k, v in node.value}


def _yaml_case_rows(text: str, name: str, problems: list[Problem]) -> Iterator[_Row]:
    root = _compose(text, name, problems)
    if root is None:
        return
    top = _mapping(root)
    if top is not None and set(top) == {"cases"}:
        root = top["cases"][0]
    if not isinstance(root, yaml.SequenceNode):
        problems.append(Problem(name, _line(root), None, "must be a list of cases ('- question: ...'), or 'cases:' with one"))
        return
    for item in root.value:
        fields = _mapping(item)
        if fields is None:
            problems.append(Problem(name, _line(item), None, "a case must be a mapping of question, expected_id, lang"))
            continue
        values = {k: _value(v) for k, (v, _) in fields.items()}
        yield values, _line(item), {k: line for k, (_, line) in fields.items()}


def _validate_cases(rows: Iterable[_Row], name: str, problems: list[Problem]) -> Iterator[Case]:
    for values, line, lines in rows:
        before = len(problems)

        def report(field: str | None, message: str) -> None:
            problems.append(Problem(name, lines.get(field or "", line), field, message))

        for key in values:
            if key not in CASE_COLUMNS:
                report(key, f"is not a known field (known: {', '.join(CASE_COLUMNS)})")
        clean: dict[str, str] = {}
        for key in CASE_COLUMNS:
            value = values.get(key)
            if value is None:
                value = ""
            if not isinstance(value, str):
                report(key, "must be text")
                continue
            clean[key] = value.strip()
        if "question" in clean and not clean["question"]:
            report("question", "is empty")
        if "lang" in clean and not _LANG.match(clean["lang"]):
            report("lang", f"{clean['lang']!r} is not an ISO language code such as 'de' or 'en'")
        if len(problems) == before:
            yield Case(clean["question"], clean["expected_id"] or None, clean["lang"], f"{name}:{line}")


def _conversations(root: yaml.Node, name: str, problems: list[Problem]) -> list[Conversation]:
    top = _mapping(root)
    if top is None or "conversations" not in top:
        problems.append(Problem(name, _line(root), None, "must be a mapping with a 'conversations:' list"))
        return []
    for key, (_, line) in top.items():
        if key != "conversations":
            problems.append(Problem(name, line, key, "is not a known key (known: conversations)"))
    items, line = top["conversations"]
    if not isinstance(items, yaml.SequenceNode) or not items.value:
        problems.append(Problem(name, line, "conversations", "must be a non-empty list of conversations"))
        return []
    out = []
    for item in items.value:
        conversation = _conversation(item, name, problems)
        if conversation is not None:
            out.append(conversation)
    return out


def _conversation(node: yaml.Node, name: str, problems: list[Problem]) -> Conversation | None:
    fields = _mapping(node)
    if fields is None:
        problems.append(Problem(name, _line(node), None, "a conversation must be a mapping of name, channel, consents, turns"))
        return None
    before = len(problems)

    def report(field: str | None, message: str) -> None:
        problems.append(Problem(name, fields[field][1] if field in fields else _line(node), field, message))

    for key in fields:
        if key not in CONVERSATION_KEYS:
            report(key, f"is not a known key (known: {', '.join(CONVERSATION_KEYS)})")
    title = _value(fields["name"][0]) if "name" in fields else None
    if not isinstance(title, str) or not title.strip():
        report("name", "must be a non-empty text")
    channel = _value(fields["channel"][0]) if "channel" in fields else None
    if channel not in CHANNELS:
        report("channel", f"{channel!r} is not a channel; use one of {', '.join(CHANNELS)}")
    consents = _value(fields["consents"][0]) if "consents" in fields else []
    if not isinstance(consents, list) or not all(isinstance(c, str) and c for c in consents):
        report("consents", "must be a list of consent topic ids, e.g. [angebote-solar]")
        consents = []
    turn_nodes = fields["turns"][0] if "turns" in fields else None
    turns: list[Turn] = []
    if not isinstance(turn_nodes, yaml.SequenceNode) or not turn_nodes.value:
        report("turns", "must be a non-empty list of turns ('- user: ...' or '- campaign: ...')")
    else:
        turns = [t for t in (_turn(n, name, problems) for n in turn_nodes.value) if t is not None]
    if len(problems) > before:
        return None
    assert isinstance(title, str) and isinstance(channel, str)
    return Conversation(title.strip(), channel, tuple(consents), tuple(turns), f"{name}:{_line(node)}")


def _turn(node: yaml.Node, name: str, problems: list[Problem]) -> Turn | None:
    fields = _mapping(node)
    if fields is None:
        problems.append(Problem(name, _line(node), None, "a turn must be a mapping: '- user: ...' or '- campaign: ...'"))
        return None
    before = len(problems)

    def report(field: str | None, message: str, line: int | None = None) -> None:
        problems.append(Problem(name, line or (fields[field][1] if field in fields else _line(node)), field, message))

    for key in fields:
        if key not in TURN_KEYS:
            report(key, f"is not a known key (known: {', '.join(TURN_KEYS)})")
    kinds = [k for k in STEP_KINDS if k in fields]
    if len(kinds) != 1:
        report(None, "needs exactly one of 'user' (a message), 'campaign', 'person' (take, release or a text) or 'wait' (e.g. 45m)")
        return None
    user: str | None = None
    campaign: Campaign | None = None
    person: str | None = None
    wait: float | None = None
    if "user" in fields:
        user = _value(fields["user"][0])
        if not isinstance(user, str) or not user.strip():
            report("user", "must be a non-empty text")
    elif "campaign" in fields:
        campaign = _campaign(fields["campaign"], report)
    elif "person" in fields:
        person = _value(fields["person"][0])
        if not isinstance(person, str) or not person.strip():
            report("person", "must be 'take', 'release' or the text the person sends")
    else:
        wait = _duration(_value(fields["wait"][0]))
        if wait is None:
            report("wait", "must be a duration such as 30s, 45m or 2h")
    expect = _expectations(fields.get("expect"), kinds[0], report)
    if len(problems) > before:
        return None
    return Turn(user, campaign, expect, f"{name}:{_line(node)}", person.strip() if isinstance(person, str) else None, wait)


def _duration(value: Any) -> float | None:
    match = _DURATION.match(str(value)) if isinstance(value, (str, int, float)) and not isinstance(value, bool) else None
    if match is None:
        return None
    amount, unit = float(match.group(1)), match.group(2)
    return amount * {"s": 1, "m": 60, "min": 60, "h": 3600}[unit]


def _campaign(field: tuple[yaml.Node, int], report: Report) -> Campaign | None:
    node, line = field
    value = _value(node)
    if not isinstance(value, dict) or set(value) != set(CAMPAIGN_KEYS) or not all(isinstance(value[k], str) and value[k].strip() for k in CAMPAIGN_KEYS):
        report("campaign", 'must be {topic: TOPIC, text: "..."}, both non-empty texts', line)
        return None
    return Campaign(value["topic"].strip(), value["text"].strip())


def _expectations(field: tuple[yaml.Node, int] | None, step: str, report: Report) -> dict[str, Any]:
    if field is None:
        return {}
    node, line = field
    entries = _mapping(node)
    if entries is None:
        report("expect", "must be a mapping such as {entry: zaehlerstand-melden}", line)
        return {}
    expect: dict[str, Any] = {}
    for key, (value_node, key_line) in entries.items():
        spec = EXPECTATIONS.get(key)
        if spec is None:
            report(key, f"is not a known expectation (known: {', '.join(EXPECTATIONS)})", key_line)
            continue
        kind, steps = spec
        if step not in steps:
            report(key, f"cannot be checked on {'a user turn' if step == 'user' else f'a {step} step'}", key_line)
            continue
        value = _value(value_node)
        if kind == "bool" and not isinstance(value, bool):
            report(key, f"must be true or false, not {value!r}", key_line)
        elif key == "no_marketing" and value is not True:
            report(key, "can only be true (nothing may expect promotion without consent)", key_line)
        elif kind == "text" and (not isinstance(value, str) or not value.strip()):
            report(key, "must be an entry id", key_line)
        elif kind == "consent" and not (isinstance(value, dict) and value and all(isinstance(t, str) and s in CONSENT_STATES for t, s in value.items())):
            report(key, f"must map topics to {' or '.join(CONSENT_STATES)}, e.g. {{newsletter: granted}}", key_line)
        else:
            expect[key] = value.strip() if isinstance(value, str) else value
    return expect
