"""The in-chat consent dialogue and consent-scoped marketing answers, through the real bot."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from botkit.consent import GRANTED, PENDING, WITHDRAWN, ConsentFlow, ConsentLedger
from botkit.db import campaign_deliveries
from botkit.types import Decision, Reply

SOLAR_Q_DE = "Lohnt sich ein Batteriespeicher für meine Solaranlage?"  # entry batteriespeicher, topic angebote-solar
SOLAR_TEASER_DE = "Speicher-Aktion"
SOLAR_LINK_DE = "https://www.stadtwerke-lindenau.example/solar/speicher"
SOLAR_Q_EN = "Do you offer solar panels?"  # entry en-solar-pv (English entries have links but no teaser)
SOLAR_LINK_EN = "https://www.stadtwerke-lindenau.example/en/solar"
NEWS_Q_DE = "Wie kann ich Strom sparen?"  # entry energiespartipps, topic newsletter
NEWS_TEASER_DE = "Jeden Monat neue Spartipps"
NOTICE_DE = "Sie können der Verwendung Ihrer Daten für Werbung jederzeit widersprechen"
NOTICE_EN = "you can object to the use of your data for marketing at any time"


def ledger_of(bot) -> ConsentLedger:
    assert isinstance(bot.consent, ConsentFlow)  # open_bot wires the consent flow
    return bot.consent.ledger


class Chat:
    """One user talking to the bot; each marketing question goes in a fresh conversation, so the
    bot's repeated-question logic never interferes, while consent (per user and channel) carries over."""

    def __init__(self, bot, user: str, channel: str = "web") -> None:
        self.bot, self.user, self.channel, self.n = bot, user, channel, 0

    def say(self, text: str, conversation: str | None = None) -> Reply:
        self.n += 1
        # A message id is unique per conversation: a repeated one is a redelivery and gets the stored reply.
        message_id = f"{self.user}-{self.channel}-m{self.n}"
        return self.bot.reply(conversation or f"{self.user}-main", text, self.channel, user_id=self.user, message_id=message_id)

    def ask(self, text: str) -> Reply:
        return self.say(text, conversation=f"{self.user}-{self.channel}-q{self.n}")


def text_of(reply: Reply) -> str:
    return "\n".join(m.text for m in reply.messages)


def payloads(reply: Reply) -> str:
    return json.dumps([m.payload for m in reply.messages], ensure_ascii=False)


def quick_replies(reply: Reply) -> list[str]:
    return [q for m in reply.messages for q in m.quick_replies]


def test_marketing_answer_without_consent_has_no_teaser_links_or_entry_options_but_offers_opt_in(bot):
    reply = Chat(bot, "u-none").ask(SOLAR_Q_DE)
    assert reply.entries == ("batteriespeicher",)
    assert "Speicher nimmt Ihren Solarstrom" in text_of(reply)
    assert SOLAR_TEASER_DE not in payloads(reply) and SOLAR_LINK_DE not in payloads(reply)
    assert quick_replies(reply) == ["Abonnieren: Solar-Angebote"]  # not the entry's own "PV-Anlage"
    with bot.store.engine.connect() as conn:
        assert conn.execute(select(campaign_deliveries)).first() is None


def test_service_answers_keep_their_links_for_everyone(bot):
    reply = Chat(bot, "u-service").ask("Wie melde ich meinen Zählerstand?")
    assert reply.entries == ("zaehlerstand-melden",) and "https://" in payloads(reply)


def test_double_opt_in_in_german_grants_only_after_ja(bot):
    chat, ledger = Chat(bot, "u-de"), ledger_of(bot)
    request = chat.say("Ich möchte Solar-Angebote erhalten")
    assert request.decision == Decision.CONSENT
    shown = text_of(request)
    for part in ("„Solar-Angebote“", "Stadtwerke Lindenau", "Höchstens 2 Nachrichten pro Monat", "JA", "STOP", "datenschutz"):
        assert part in shown
    assert quick_replies(request)[-2:] == ["JA", "Nein"]
    pending = ledger.state("u-de", "web", "angebote-solar")
    assert pending.state == PENDING and pending.message_id == "u-de-web-m1" and "Höchstens 2 Nachrichten" in pending.wording
    assert not ledger.is_granted("u-de", "web", "angebote-solar")
    assert SOLAR_TEASER_DE not in text_of(chat.ask(SOLAR_Q_DE))  # pending is not granted

    confirmed = chat.say("JA")
    assert confirmed.decision == Decision.CONSENT and "bestätigt" in text_of(confirmed)
    grant = ledger.state("u-de", "web", "angebote-solar")
    assert (grant.state, grant.ref, grant.message_id, grant.evidence) == (GRANTED, pending.id, "u-de-web-m3", "JA")
    assert grant.wording == pending.wording and grant.version == "2026-11-01"

    first = chat.ask(SOLAR_Q_DE)
    assert SOLAR_TEASER_DE in text_of(first) and SOLAR_LINK_DE in payloads(first)
    assert NOTICE_DE in text_of(first)
    assert "PV-Anlage" in quick_replies(first)
    assert NOTICE_DE not in text_of(chat.ask("Verkaufen Sie Balkonkraftwerke?"))  # only the first marketing message


def test_double_opt_in_in_english(bot):
    chat, ledger = Chat(bot, "u-en", "messenger"), ledger_of(bot)
    assert SOLAR_LINK_EN not in payloads(chat.ask(SOLAR_Q_EN))
    request = chat.say("I would like to receive solar offers")
    assert request.decision == Decision.CONSENT
    assert "Please confirm" in text_of(request) and "Reply YES" in text_of(request)
    assert ledger.state("u-en", "messenger", "angebote-solar").lang == "en"
    assert "confirmed" in text_of(chat.say("YES"))
    answer = chat.ask(SOLAR_Q_EN)
    assert SOLAR_LINK_EN in payloads(answer) and NOTICE_EN in text_of(answer)


def test_tapping_the_offered_quick_reply_starts_the_double_opt_in(bot):
    chat = Chat(bot, "u-tap")
    offer = quick_replies(chat.ask(NEWS_Q_DE))[0]
    assert chat.say(offer).decision == Decision.CONSENT
    chat.say("Ja bitte")
    assert ledger_of(bot).is_granted("u-tap", "web", "newsletter")
    assert NEWS_TEASER_DE in text_of(chat.ask(NEWS_Q_DE))


def test_ja_without_a_pending_request_is_no_consent(bot):
    reply = Chat(bot, "u-ja").say("JA")
    assert reply.decision != Decision.CONSENT
    assert ledger_of(bot).history("u-ja") == []


def test_confirmation_after_the_pending_window_is_no_consent(bot, clock):
    chat = Chat(bot, "u-late")
    chat.say("Newsletter abonnieren")
    clock.advance(bot.consent.pending_seconds + 1)
    assert chat.say("JA").decision != Decision.CONSENT
    assert not ledger_of(bot).is_granted("u-late", "web", "newsletter")


def test_declining_records_the_refusal_and_stops_offering_the_topic(bot):
    chat, ledger = Chat(bot, "u-no"), ledger_of(bot)
    request_event = (chat.say("Newsletter abonnieren"), ledger.state("u-no", "web", "newsletter"))[1]
    assert "keine" in text_of(chat.say("Nein"))
    declined = ledger.state("u-no", "web", "newsletter")
    assert (declined.state, declined.ref) == (WITHDRAWN, request_event.id)
    assert quick_replies(chat.ask(NEWS_Q_DE)) == []


def test_already_subscribed_user_is_told_so(bot):
    ledger_of(bot).grant("u-again", "web", "newsletter")
    reply = Chat(bot, "u-again").say("Newsletter abonnieren")
    assert "bereits" in text_of(reply)
    assert [e.state for e in ledger_of(bot).history("u-again")] == [GRANTED]


def test_one_request_for_two_topics_is_confirmed_by_one_yes(bot):
    chat = Chat(bot, "u-two")
    request = chat.say("Subscribe to Solar offers and the newsletter")
    assert "“Solar offers” and “Energy-saving newsletter”" in text_of(request)
    chat.say("yes")
    ledger = ledger_of(bot)
    assert ledger.is_granted("u-two", "web", "angebote-solar") and ledger.is_granted("u-two", "web", "newsletter")


GERMAN_KEYWORDS = [
    "STOP",
    "STOPP",
    "ABMELDEN",
    "INFOSTOP",
    "keine Werbung mehr",
    "Abbestellen",
    "Austragen",
    "Widerruf",
    "Ich widerspreche",
    "Stopp bitte",
    "Werbestopp",
]
ENGLISH_KEYWORDS = ["STOP", "unsubscribe", "Unsubscribe please", "opt out", "no more marketing", "stop all", "I want to withdraw my consent"]


@pytest.mark.parametrize(
    ("lang", "keywords", "question", "promo", "done"),
    [
        ("de", GERMAN_KEYWORDS, NEWS_Q_DE, NEWS_TEASER_DE, "keine Werbung mehr"),
        ("en", ENGLISH_KEYWORDS, SOLAR_Q_EN, SOLAR_LINK_EN, "no longer receive marketing"),
    ],
)
def test_every_withdrawal_keyword_is_confirmed_and_effective_on_the_next_message(bot, lang, keywords, question, promo, done):
    ledger = ledger_of(bot)
    failures = []
    for i, keyword in enumerate(keywords):
        user = f"u-{lang}-{i}"
        for topic in ledger.topics:
            ledger.grant(user, "web", topic)
        chat = Chat(bot, user)
        before = chat.say(question)  # the main conversation: sets the user's language
        withdrawal = chat.say(keyword)
        after = chat.say(question, conversation=f"{user}-after")
        problems = [
            promo not in payloads(before) and "promotion missing before",
            withdrawal.decision != Decision.CONSENT and f"decision {withdrawal.decision.value}",
            done not in text_of(withdrawal) and f"confirmation {text_of(withdrawal)!r}",
            any(ledger.is_granted(user, "web", t) for t in ledger.topics) and "still granted",
            promo in payloads(after) and "promotion on the next message",
        ]
        failures += [f"{keyword!r}: {p}" for p in problems if p]
    assert failures == []


def test_withdrawal_of_one_topic_keeps_the_others(bot):
    ledger = ledger_of(bot)
    for topic in ("angebote-solar", "newsletter"):
        ledger.grant("u-one", "web", topic)
    chat = Chat(bot, "u-one")
    reply = chat.say("Newsletter abbestellen")
    assert "„Energiespar-Newsletter“ mehr" in text_of(reply)
    assert not ledger.is_granted("u-one", "web", "newsletter")
    assert ledger.is_granted("u-one", "web", "angebote-solar")
    assert NEWS_TEASER_DE not in text_of(chat.ask(NEWS_Q_DE))
    assert SOLAR_TEASER_DE in text_of(chat.ask(SOLAR_Q_DE))


def test_stop_in_one_channel_withdraws_in_every_channel_of_the_user(bot):
    ledger = ledger_of(bot)
    ledger.grant("4917611111111", "whatsapp", "angebote-solar")
    ledger.grant("4917611111111", "sms", "newsletter")
    Chat(bot, "4917611111111", "whatsapp").say("STOP")
    assert [e.state for e in ledger.states("4917611111111")] == [WITHDRAWN, WITHDRAWN]


def test_stop_without_any_subscription_confirms_nothing_is_sent_and_records_nothing(bot):
    reply = Chat(bot, "u-never").say("STOP")
    assert reply.decision == Decision.CONSENT and "keine Werbung abonniert" in text_of(reply)
    assert ledger_of(bot).history("u-never") == []


def test_consent_in_one_channel_does_not_unlock_marketing_in_another(bot):
    ledger_of(bot).grant("u-chan", "whatsapp", "angebote-solar")
    assert SOLAR_TEASER_DE not in text_of(Chat(bot, "u-chan", "telegram").ask(SOLAR_Q_DE))
    assert SOLAR_TEASER_DE in text_of(Chat(bot, "u-chan", "whatsapp").ask(SOLAR_Q_DE))


def test_stop_works_while_a_person_has_the_conversation(bot):
    bot.reply("c-stop", "Ich möchte Solar-Angebote erhalten")
    bot.reply("c-stop", "JA")
    assert bot.consent.ledger.is_granted("c-stop", "web", "angebote-solar")
    asked = bot.reply("c-stop", "Ich möchte mit einem Mitarbeiter sprechen")
    bot.take(asked.handover.id, "Anna")
    reply = bot.reply("c-stop", "STOP")
    assert reply.decision.value == "consent" and reply.messages
    assert not bot.consent.ledger.is_granted("c-stop", "web", "angebote-solar")
    assert bot.reply("c-stop", "Danke").decision.value == "silent"  # the person still has the conversation
