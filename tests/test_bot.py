"""The bot on the sample knowledge base: disclosure, answers, clarification, handover, persistence."""

from __future__ import annotations

import pytest

from botkit import Decision, KnowledgeError, Settings, load_knowledge, open_bot
from botkit.policy.disclosure import says_it_is_a_bot
from tests.conftest import SAMPLE


def texts(reply) -> list[str]:
    return [m.text for m in reply.messages]


@pytest.mark.parametrize(
    ("first", "lang_word"),
    [("Wie melde ich meinen Zählerstand?", "Bot"), ("How do I submit my meter reading?", "bot")],
)
def test_first_reply_of_a_conversation_discloses_the_bot(bot, first, lang_word):
    reply = bot.reply("c1", first)
    assert reply.disclosed and reply.decision == Decision.ANSWERED
    assert says_it_is_a_bot(reply.messages[0].text) and lang_word in reply.messages[0].text
    assert "Mitarbeiter" in reply.messages[0].text or "agent" in reply.messages[0].text
    second = bot.reply("c1", first.replace("?", " bitte?") if "Wie" in first else "How can I report the meter reading?")
    assert not second.disclosed
    assert not any(says_it_is_a_bot(t) for t in texts(second))


def test_greeting_first_gets_the_disclosure_alone(bot):
    reply = bot.reply("c1", "Hallo")
    assert reply.disclosed and reply.reason == "greeting" and len(reply.messages) == 1
    assert says_it_is_a_bot(reply.messages[0].text)


def test_disclosure_repeats_after_a_long_pause(bot, clock):
    bot.reply("c1", "Hallo")
    clock.advance(60)
    assert not bot.reply("c1", "Wie melde ich meinen Zählerstand?").disclosed
    clock.advance(5 * 3600)
    assert bot.reply("c1", "Wie kann ich mein Passwort zurücksetzen?").disclosed


@pytest.mark.parametrize(
    "question",
    ["Bist du ein Mensch?", "Ist das ein Bot?", "Spreche ich mit einer echten Person?", "Am I talking to a real person?", "Are you a bot?", "are you human"],
)
def test_are_you_human_gets_a_truthful_answer(bot, question):
    bot.reply("c1", "Hallo")
    reply = bot.reply("c1", question)
    assert reply.reason == "bot_question" and reply.handover is None
    assert says_it_is_a_bot(reply.messages[-1].text)
    assert "kein Mensch" in reply.messages[-1].text or "not a person" in reply.messages[-1].text


@pytest.mark.parametrize(
    "request_text",
    ["Ich möchte mit einem Mitarbeiter sprechen", "Kann ich mit einem echten Menschen reden?", "I want to talk to a human", "agent please"],
)
def test_asking_for_a_person_hands_over_with_transcript(bot, request_text):
    bot.reply("c1", "Wie melde ich meinen Zählerstand?")
    reply = bot.reply("c1", request_text)
    assert reply.decision == Decision.HANDOVER and reply.reason == "user_request"
    assert reply.handover is not None
    assert [t["text"] for t in reply.handover.transcript if t["role"] == "user"] == ["Wie melde ich meinen Zählerstand?", request_text]
    (queued,) = bot.store.queue()
    assert queued.reason == "user_request" and queued.conversation_id == "c1"


def test_low_confidence_hands_over_with_reason_details(bot):
    reply = bot.reply("c1", "Können Sie mir ein Rezept für Apfelkuchen geben?")
    assert reply.decision == Decision.HANDOVER and reply.reason == "low_confidence"
    details = reply.handover.details
    assert details["threshold"] == bot.limits.threshold
    assert details["confidence"] < details["threshold"]
    assert len(details["top_hits"]) == 3 and {"entry", "score"} <= set(details["top_hits"][0])
    assert bot.store.queue()[0].details == details


def test_repeating_the_same_question_hands_over_instead_of_looping(bot):
    question = "Wie melde ich meinen Zählerstand?"
    assert bot.reply("c1", question).decision == Decision.ANSWERED
    assert bot.reply("c1", question).reason == "repeated_question"
    third = bot.reply("c1", question)
    assert third.decision == Decision.HANDOVER and third.reason == "repeated_misses"


def test_bot_stays_silent_while_a_person_has_the_conversation(bot):
    asked = bot.reply("c1", "Ich möchte mit einem Mitarbeiter sprechen")
    bot.take(asked.handover.id, "Anna")
    silent = bot.reply("c1", "Wie melde ich meinen Zählerstand?")
    assert silent.decision == Decision.SILENT and silent.messages == ()
    assert bot.store.transcript("c1")[-1] == {"role": "user", "text": "Wie melde ich meinen Zählerstand?"}
    bot.release("c1")
    back = bot.reply("c1", "Wie melde ich meinen Zählerstand?")
    assert back.decision == Decision.ANSWERED and back.disclosed
    assert bot.store.queue() == [] and bot.store.queue(status="released")[0].status == "released"


TWINS = """\
- id: abschlag-strom
  question: Wie hoch ist mein monatlicher Abschlag für Strom?
  answer: Ihren Stromabschlag sehen Sie im Kundenportal.
  topic: rechnung
  scope: service
  lang: de
- id: abschlag-gas
  question: Wie hoch ist mein monatlicher Abschlag für Gas?
  answer: Ihren Gasabschlag sehen Sie im Kundenportal.
  topic: rechnung
  scope: service
  lang: de
- id: zaehlerstand
  question: Wie melde ich meinen Zählerstand?
  answer: In der App.
  topic: zaehler
  scope: service
  lang: de
"""


def test_close_entries_get_a_clarifying_question_and_the_choice_is_answered(tmp_path, embedder, clock):
    (tmp_path / "faq.yaml").write_text(TWINS, encoding="utf-8")
    bot = open_bot(tmp_path / "faq.yaml", Settings(), embedder=embedder, clock=clock)
    reply = bot.reply("c1", "Wie hoch ist mein monatlicher Abschlag?")
    assert reply.decision == Decision.CLARIFY and set(reply.entries) == {"abschlag-strom", "abschlag-gas"}
    assert reply.messages[-1].quick_replies  # the options as buttons
    chosen = bot.reply("c1", bot.knowledge.by_id()[reply.entries[1]].question)
    assert chosen.decision == Decision.ANSWERED and chosen.entries == (reply.entries[1],)
    bot.close()


def test_state_survives_a_restart(settings, embedder, clock):
    first = open_bot(SAMPLE, settings, embedder=embedder, clock=clock)
    first.reply("c1", "Hallo")
    asked = first.reply("c2", "Ich möchte mit einem Mitarbeiter sprechen")
    first.take(asked.handover.id)
    first.close()
    second = open_bot(SAMPLE, settings, embedder=embedder, clock=clock)
    assert not second.reply("c1", "Wie melde ich meinen Zählerstand?").disclosed
    assert second.reply("c2", "Hallo?").decision == Decision.SILENT
    assert len(second.queue("with_person")) == 1
    second.close()


def test_english_question_gets_the_english_entry(bot):
    reply = bot.reply("c1", "There is a power cut in my street, what should I do?")
    assert reply.decision == Decision.ANSWERED
    assert bot.knowledge.by_id()[reply.entries[0]].lang == "en"
    assert "bot" in reply.messages[0].text


def test_marketing_answer_without_consent_carries_no_promotion(bot):
    entry = next(e for e in bot.knowledge.entries if e.scope == "marketing" and e.teaser and e.lang == "de")
    reply = bot.reply("c1", entry.question)
    assert reply.entries == (entry.id,)
    sent = " ".join(texts(reply))
    assert entry.teaser not in sent
    assert not any(link in sent for link in entry.links)


CLIENT = """\
client:
  name: Testwerke
  bot_name: Tessa
  disclosure:
    de: "Hier schreibt {bot}, ein Bot der {client}. {capabilities}"
"""


def test_disclosure_wording_is_configurable_per_language(tmp_path, embedder, clock):
    (tmp_path / "faq.yaml").write_text(TWINS, encoding="utf-8")
    (tmp_path / "botkit.yaml").write_text(CLIENT, encoding="utf-8")
    bot = open_bot(tmp_path, Settings(), embedder=embedder, clock=clock)
    assert bot.reply("c1", "Hallo").messages[0].text.startswith("Hier schreibt Tessa, ein Bot der Testwerke.")
    assert "Tessa" in bot.reply("c2", "Hello there, how do I report my meter reading?").messages[0].text
    bot.close()


def test_disclosure_cannot_be_worded_away(tmp_path):
    (tmp_path / "faq.yaml").write_text(TWINS, encoding="utf-8")
    (tmp_path / "botkit.yaml").write_text(CLIENT.replace("ein Bot der {client}", "Ihr Team von {client}"), encoding="utf-8")
    with pytest.raises(KnowledgeError, match="client.disclosure.de"):
        load_knowledge(tmp_path)


def test_a_person_can_take_a_conversation_the_bot_has_not_seen(bot):
    bot.take_conversation("new-user", "new-user", "messenger")
    reply = bot.reply("new-user", "Hallo?", "messenger")
    assert reply.decision == Decision.SILENT
    bot.release("new-user")
    assert bot.reply("new-user", "Hallo", "messenger").disclosed


def test_a_tapped_quick_reply_of_the_last_answer_is_answered(bot):
    first = bot.reply("c1", "Wie melde ich meinen Zählerstand?")
    assert first.entries == ("zaehlerstand-melden",)
    label = bot.knowledge.by_id()["zaehlerstand-melden"].quick_replies[0]
    follow = bot.reply("c1", label)
    assert follow.decision == Decision.ANSWERED and follow.reason == "quick_reply"
    assert follow.entries and follow.entries != first.entries
