"""Consent topics in the workshop: draft a topic, preview its opt-in wording and a campaign per channel.

Previews run on a throw-away in-memory ledger through the real `ConsentFlow` and
`render`, so what the client approves is exactly what users will see. Proposed topics
are written in `botkit.yaml`'s format for the developers to copy over.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from botkit.channels import CHANNELS, HouseRules, render
from botkit.consent import ConsentFlow, ConsentLedger
from botkit.consent.flow import offer_label, say
from botkit.db import open_database
from botkit.errors import ConsentError, KnowledgeError, Problem
from botkit.strict_yaml import load_yaml
from botkit.textfile import read_text_file
from botkit.types import Client, Draft, Message, Topic

PREVIEW_USER = "workbench-preview"


def topic_rows(topics: Sequence[Topic]) -> list[dict[str, Any]]:
    """One table row per topic: id, version, and title and wording per language."""
    rows = []
    for topic in topics:
        row: dict[str, Any] = {"topic": topic.id, "version": topic.version}
        for lang in sorted(set(topic.title) | set(topic.description)):
            row[f"title ({lang})"] = topic.title.get(lang, "")
            row[f"wording ({lang})"] = topic.description.get(lang, "")
        rows.append(row)
    return rows


def preview_opt_in(client: Client, topic: Topic, channel: str, lang: str = "de", *, rules: HouseRules | None = None) -> list[Message]:
    """The confirmation request a user gets on `channel` after asking for `topic` (nothing is stored)."""
    topics = (*(t for t in client.topics if t.id != topic.id), topic)
    engine = open_database("sqlite://")
    try:
        flow = ConsentFlow(ConsentLedger(engine, replace(client, topics=topics)))
        label = offer_label(topic, lang)
        draft = flow.intercept(PREVIEW_USER, channel, label, lang, None)
        requested = [e.topic for e in flow.pending(PREVIEW_USER, channel)]
    finally:
        engine.dispose()
    if draft is None or requested != [topic.id]:
        raise ConsentError(
            f"the opt-in quick reply {label!r} is not read as a request for {topic.id!r} alone (the title may sound like "
            "a withdrawal or name another topic); choose another title"
        )
    return render(channel, draft, rules)


def preview_campaign(
    text: str, lang: str = "de", *, channels: Sequence[str] = CHANNELS, first: bool = True, rules: HouseRules | None = None
) -> dict[str, list[Message]]:
    """The messages of a campaign per channel, with the objection notice (`first`) or the STOP hint."""
    if not text.strip():
        raise ConsentError("a campaign needs a text")
    full = f"{text}\n\n{say('objection_notice' if first else 'stop_hint', lang)}"
    return {channel: render(channel, Draft(full), rules) for channel in channels}


def consent_rows(ledger: ConsentLedger, users: Sequence[str]) -> list[dict[str, Any]]:
    """The current consent state of each (user, channel, topic) of `users`, for a table."""
    return [
        {
            "user": e.user_id,
            "channel": e.channel,
            "topic": e.topic,
            "state": e.state,
            "version": e.version,
            "method": e.method,
            "granted now": ledger.is_granted(e.user_id, e.channel, e.topic),
        }
        for user in users
        for e in sorted(ledger.states(user), key=lambda e: (e.channel, e.topic))
    ]


def write_topics(topics: Sequence[Topic], path: str | Path) -> Path:
    """Write topics in `botkit.yaml`'s `topics:` format (for the developers to merge)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"topics": [{"id": t.id, "title": dict(t.title), "description": dict(t.description), "version": t.version} for t in topics]}
    header = "# Consent topics proposed in the workshop: copy them into the knowledge base's botkit.yaml once approved.\n"
    path.write_text(header + yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100), encoding="utf-8")
    return path


def read_topics(path: str | Path) -> tuple[Topic, ...]:
    """Read topics written by `write_topics` (or the `topics:` of a `botkit.yaml`)."""
    path = Path(path)
    try:
        data = load_yaml(read_text_file(path).text, str(path)) or {}
    except OSError as exc:
        raise KnowledgeError([Problem(str(path), None, None, f"cannot be read as topics ({exc})")]) from exc
    topics = []
    for i, raw in enumerate((data.get("topics") or []) if isinstance(data, dict) else []):
        try:
            topics.append(Topic(str(raw["id"]), dict(raw["title"]), dict(raw["description"]), str(raw["version"])))
        except (KeyError, TypeError, ValueError) as exc:
            raise KnowledgeError([Problem(str(path), None, f"topics[{i}]", f"needs id, title, description and version ({exc})")]) from exc
    return tuple(topics)
