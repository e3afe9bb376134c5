"""What the notebooks show on the client's own data: scripted chats and consent topics drafted from their entries.

Nothing here names a sample entry or topic: the scripted start of notebook 2 and the consent
demo of notebook 5 are built from the knowledge base and the client's consent topics, so a
new client's workshop runs without editing a cell.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from botkit.bot import Bot
from botkit.consent.flow import offer_label, title
from botkit.errors import ConfigError
from botkit.knowledge import KnowledgeBase
from botkit.types import FaqEntry, Topic

_USER_TEXTS: dict[str, dict[str, str]] = {
    "greeting": {"de": "Hallo", "en": "Hello"},
    "bot_question": {"de": "Bist du ein Mensch?", "en": "Are you a human?"},
    "person": {"de": "Ich möchte mit einem Mitarbeiter sprechen", "en": "I would like to talk to a person"},
    "nudge": {"de": "Hallo?", "en": "Hello?"},
    "yes": {"de": "JA", "en": "YES"},
}
_PERSON_TEXTS: dict[str, str] = {
    "de-du": "Hallo, hier ist {person} vom Team. Ich kümmere mich jetzt um dein Anliegen.",
    "de-sie": "Guten Tag, hier ist {person} vom Team. Ich kümmere mich jetzt um Ihr Anliegen.",
    "en": "Hello, this is {person} from the team. I'm looking after your request now.",
}
_TOPIC_WORDING: dict[str, str] = {
    "de-sie": "Angebote und Aktionen von {client} zum Thema {title}. Höchstens 2 Nachrichten pro Monat in diesem Chat. "
    "Sie können die Einwilligung jederzeit hier im Chat widerrufen.",
    "de-du": "Angebote und Aktionen von {client} zum Thema {title}. Höchstens 2 Nachrichten pro Monat in diesem Chat. "
    "Du kannst die Einwilligung jederzeit hier im Chat widerrufen.",
    "en": "Offers and promotions from {client} on {title}. At most 2 messages per month in this chat. You can withdraw your consent in this chat at any time.",
}


@dataclass(frozen=True)
class Example:
    """One example conversation for the report: `kind` names what it shows; turns are (who, text, decision)."""

    kind: str  # "answer" | "bot_question" | "not_in_faq" | "person"
    channel: str
    turns: tuple[tuple[str, str, str], ...]


@dataclass(frozen=True)
class ConsentScript:
    """A consent demo on one of the client's topics: who writes what, and the campaign text."""

    topic: Topic
    question: str  # a question answered from one of the topic's marketing entries
    messages: dict[str, tuple[str, ...]]  # user -> messages in order
    campaign: str


def user_text(key: str, lang: str) -> str:
    """A typical customer message ("greeting", "bot_question", "person", "nudge", "yes") in `lang`."""
    texts = _USER_TEXTS[key]
    return texts.get(lang) or texts["en"]


def person_text(person: str, lang: str, tone: str = "sie") -> str:
    """What a person from the client's team writes first after taking a conversation, in the client's du/Sie."""
    key = f"de-{tone}" if lang == "de" else "en"
    return _PERSON_TEXTS.get(key, _PERSON_TEXTS["en"]).format(person=person)


def service_entries(knowledge: KnowledgeBase) -> list[FaqEntry]:
    """The service entries in the main language of the knowledge base, in file order."""
    lang = main_language(knowledge)
    return [e for e in knowledge.entries if e.scope == "service" and e.lang == lang] or [e for e in knowledge.entries if e.scope == "service"]


def main_language(knowledge: KnowledgeBase) -> str:
    """The language most entries are in ("de" for an empty knowledge base)."""
    counts: dict[str, int] = {}
    for entry in knowledge.entries:
        counts[entry.lang] = counts.get(entry.lang, 0) + 1
    return max(sorted(counts), key=lambda lang: counts[lang]) if counts else "de"


def scripted_start(knowledge: KnowledgeBase) -> list[str]:
    """A greeting, the client's first FAQ question, "are you a human?", a request for a person, and a nudge."""
    entries = service_entries(knowledge)
    if not entries:
        raise ConfigError("the knowledge base has no service entries yet; run notebook 1 to import the client's FAQ")
    lang = main_language(knowledge)
    return [
        user_text("greeting", lang),
        entries[0].question,
        user_text("bot_question", lang),
        user_text("person", lang),
        user_text("nudge", lang),
    ]


def another_question(knowledge: KnowledgeBase, n: int = 1) -> str:
    """The n-th service question (wrapping around): something to ask after the scripted start."""
    entries = service_entries(knowledge)
    if not entries:
        raise ConfigError("the knowledge base has no service entries yet; run notebook 1 to import the client's FAQ")
    return entries[n % len(entries)].question


def propose_topics(entries: Sequence[FaqEntry], topics: Sequence[Topic], *, client: str, tone: str, labels: Mapping[str, str] | None = None) -> list[Topic]:
    """Draft a consent topic for every marketing topic of `entries` that has none yet.

    The title is the client's own category name (`labels`: topic slug -> name as written in
    the export); the wording says what is sent and how often, in the client's du/Sie, and must
    be approved by the client before the bot goes live.
    """
    known = {t.id for t in topics}
    drafts: list[Topic] = []
    for topic_id in dict.fromkeys(e.topic for e in entries if e.scope == "marketing"):
        if topic_id in known:
            continue
        name = (labels or {}).get(topic_id) or topic_id.replace("-", " ").title()
        de = _TOPIC_WORDING[f"de-{tone}"].format(client=client, title=name)
        en = _TOPIC_WORDING["en"].format(client=client, title=name)
        drafts.append(Topic(topic_id, {"de": name, "en": name}, {"de": de, "en": en}, date.today().isoformat()))
    return drafts


def consent_script(knowledge: KnowledgeBase) -> ConsentScript:
    """A consent demo on the client's first consent topic that has a marketing entry.

    Anna asks, subscribes with the quick reply, confirms and asks again; Ben subscribes;
    Cem subscribes and withdraws with STOP. The campaign text is the entry's teaser (or its answer).
    """
    lang = main_language(knowledge)
    marketing = [e for e in knowledge.entries if e.scope == "marketing"]
    for topic in knowledge.client.topics:
        entry = next((e for e in marketing if e.topic == topic.id and e.lang == lang), None) or next((e for e in marketing if e.topic == topic.id), None)
        if entry is None:
            continue
        subscribe = offer_label(topic, lang)
        yes = user_text("yes", lang)
        return ConsentScript(
            topic=topic,
            question=entry.question,
            messages={
                "anna": (entry.question, subscribe, yes, entry.question),
                "ben": (subscribe, yes),
                "cem": (subscribe, yes, "STOP"),
            },
            campaign=entry.teaser or entry.answer,
        )
    if not knowledge.client.topics:
        raise ConfigError(
            "the client has no consent topics: add one in notebook 1 (or in workshop.yaml under topics:) "
            "if they want to send marketing, else skip this notebook"
        )
    names = ", ".join(title(t, lang) for t in knowledge.client.topics)
    raise ConfigError(f"no marketing entry belongs to a consent topic ({names}); mark the offer entries as marketing in notebook 1")


def example_conversations(bot: Bot, unanswered: Sequence[str] = (), *, channel: str = "web") -> tuple[Example, ...]:
    """Short conversations with the client's bot for the report, each a new conversation.

    The disclosure and an answer (a greeting, then the first FAQ question), "are you a human?",
    a real customer question the FAQ does not answer (the first of `unanswered`: the bot asks
    back or hands over), and a request for a person.
    """
    knowledge = bot.knowledge
    lang = main_language(knowledge)
    scripts: list[tuple[str, list[str]]] = [
        ("answer", [user_text("greeting", lang), *scripted_start(knowledge)[1:2]]),
        ("bot_question", [user_text("bot_question", lang)]),
    ]
    if unanswered:
        scripts.append(("not_in_faq", [unanswered[0]]))
    scripts.append(("person", [user_text("person", lang)]))
    run = uuid.uuid4().hex[:8]
    examples = []
    for n, (kind, texts) in enumerate(scripts):
        turns: list[tuple[str, str, str]] = []
        for text in texts:
            reply = bot.reply(f"example-{run}-{n}", text, channel)
            turns.append(("user", text, ""))
            turns.append(("bot", "\n\n".join(m.text for m in reply.messages), f"{reply.decision.value} ({reply.reason})"))
        examples.append(Example(kind, channel, tuple(turns)))
    return tuple(examples)
