"""The one wording module: every system text per language and tone, client overrides, placeholders."""

from __future__ import annotations

import re

import pytest

from botkit.consent import ConsentFlow, ConsentLedger
from botkit.consent.flow import say as consent_say
from botkit.db import open_database
from botkit.errors import ConfigError
from botkit.policy.disclosure import bot_question_answer, disclosure_text, says_it_is_a_bot
from botkit.policy.wording import TEXTS, Tone, check_override, contact_reach, placeholders, say
from botkit.testing import ManualClock
from botkit.types import Client, Topic

SIE = Client(name="Stadtwerke Test", bot_name="Tessa", phone="0800 123 4567", email="service@test.example")
DU = Client(name="Stadtwerke Test", bot_name="Tessa", tone="du")
FORMAL = re.compile(r"\b(Sie|Ihnen|Ihr|Ihre[nmrs]?)\b")
INFORMAL = re.compile(r"\b(du|dich|dir|dein\w*|Du|Dich|Dir|Dein\w*)\b")
SAMPLE_VALUES = {
    "promise": "P.",
    "minutes": "30",
    "until": "18:00 Uhr",
    "when": "morgen ab 08:00 Uhr",
    "reach": "0800 1",
    "titles": "„Solar-Angebote“",
    "channel": "WhatsApp",
    "url": "https://x.example",
    "title": "Solar",
}


def values_of(key: str) -> dict[str, str]:
    return {name: SAMPLE_VALUES[name] for name in TEXTS[key].values}


@pytest.mark.parametrize("key", sorted(TEXTS))
def test_every_builtin_text_is_a_valid_override_of_itself(key):
    text = TEXTS[key]
    for wording in (text.de.sie, text.de.du, text.en) if isinstance(text.de, Tone) else (text.de, text.en):
        assert check_override(key, wording) is None, wording


@pytest.mark.parametrize("key", sorted(TEXTS))
def test_du_and_sie_never_mix(key):
    sie, du = say(key, "de", SIE, **values_of(key)), say(key, "de", DU, **values_of(key))
    assert not INFORMAL.search(sie), sie
    assert not FORMAL.search(du), du


def test_tone_changes_the_form_of_address():
    assert say("greeting", "de", SIE) == "Hallo! Wie kann ich Ihnen helfen?"
    assert say("greeting", "de", DU) == "Hallo! Wie kann ich dir helfen?"
    assert say("greeting", "en", DU) == say("greeting", "en", SIE) == "Hi! How can I help you?"
    assert "möchtest" in disclosure_text(DU, "de") and "Wenn Sie mit einem Menschen sprechen möchten" in disclosure_text(SIE, "de")


def test_other_languages_fall_back_to_english():
    assert say("clarify", "fr", SIE) == say("clarify", "en", SIE) == "Do you mean one of these questions?"
    assert say("list_label", "de", SIE) == "Optionen" and say("list_label", "en", SIE) == "Options"
    assert say("list_label", "tr", SIE) == "Options"


def test_a_client_override_wins_per_language_and_english_overrides_cover_other_languages():
    client = Client(texts={"greeting": {"de": "Moin! Was kann ich tun?", "en": "Hey there!"}})
    assert say("greeting", "de", client) == "Moin! Was kann ich tun?"
    assert say("greeting", "fr", client) == "Hey there!"
    assert say("clarify", "de", client) == "Meinen Sie eine dieser Fragen?"


def test_placeholders_from_the_client_and_from_the_caller_are_filled():
    text = say("handover_user_request", "de", SIE, promise="Jemand meldet sich.")
    assert text == "Gern, ich gebe Ihr Anliegen an unser Team weiter. Jemand meldet sich."
    nobody = say("nobody_came", "en", SIE)
    assert nobody.endswith("In a hurry? You can also reach us at 0800 123 4567 or service@test.example.")
    answer = bot_question_answer(SIE, "de")
    assert answer.startswith("Nein, ich bin kein Mensch: Ich bin Tessa, ein Bot von Stadtwerke Test")
    assert "Ich kann nicht so tun, als wäre ich ein Mensch." in answer and says_it_is_a_bot(answer)


def test_without_any_contact_the_contact_sentence_is_left_out_cleanly():
    text = say("nobody_came", "de", Client())
    assert "Eilt es" not in text and "  " not in text and text.endswith("Ihre Fragen.")


@pytest.mark.parametrize(
    ("client", "reach"),
    [
        (Client(phone="0800 1", email="a@b.example", contact="ignored"), "0800 1 oder a@b.example"),
        (Client(email="a@b.example"), "a@b.example"),
        (Client(contact="Kundencenter, Markt 1"), "Kundencenter, Markt 1"),
        (Client(), ""),
    ],
)
def test_contact_alternative_comes_from_phone_and_email_else_contact(client, reach):
    assert contact_reach(client, "de") == reach


def test_a_caller_passing_the_wrong_values_is_told_which():
    with pytest.raises(ConfigError, match=r"'handover_low_confidence' takes the values \['promise'\]"):
        say("handover_low_confidence", "de", SIE)
    with pytest.raises(ConfigError, match="unknown text 'hello'"):
        say("hello", "de", SIE)


@pytest.mark.parametrize(
    ("key", "wording", "problem"),
    [
        ("waiting_reminder", "Ihr Ticket {ticket} liegt bei uns.", "unknown placeholder(s) {ticket}"),
        ("handover_user_request", "Gern, ich hole jemanden.", "must keep the placeholder(s) {promise}"),
        ("waiting_closed", "Wir sind {when} wieder da.", "must keep the placeholder(s) {contact}"),
        ("greeting", "Hallo {bot!r}", "malformed placeholder"),
        ("greeting", "Hallo {", "malformed placeholder"),
        ("greeting", "  ", "is empty"),
        ("hello", "Hallo", "is not a text of the bot"),
        ("contact", "Rufen Sie an: {contact}", "unknown placeholder(s) {contact}"),  # would refer to itself
    ],
)
def test_bad_overrides_are_refused_with_a_reason(key, wording, problem):
    assert problem in (check_override(key, wording) or "")


def test_placeholders_lists_names_and_ignores_literal_braces():
    assert placeholders("{{wörtlich}} {bot} und {client}") == {"bot", "client"}


def test_consent_texts_follow_the_tone_through_the_consent_flow():
    assert consent_say("granted", "de", DU, titles="„Newsletter“").startswith("Danke, deine Anmeldung")
    assert consent_say("granted", "de", SIE, titles="„Newsletter“").startswith("Danke, Ihre Anmeldung")
    assert consent_say("objection_notice", "en") == TEXTS["consent_objection_notice"].en


def test_suggestion_band_and_button_labels():
    assert say("suggest", "de", SIE).endswith("Meinten Sie eines davon?")
    assert say("talk_to_person_label", "de", DU) == say("talk_to_person_label", "de", SIE) == "Mit einem Menschen sprechen"
    assert say("nothing_fits_label", "de", SIE) == "Nichts davon" and say("nothing_fits_label", "en", SIE) == "None of these"


@pytest.mark.parametrize("key", [k for k, t in TEXTS.items() if t.disclosing])
@pytest.mark.parametrize("client", [SIE, DU])
@pytest.mark.parametrize("lang", ["de", "en", "fr"])
def test_disclosing_texts_say_it_is_a_bot_in_every_language_and_tone(key, client, lang):
    assert says_it_is_a_bot(say(key, lang, client))


def test_a_du_client_gets_the_whole_consent_dialogue_in_du(tmp_path):
    news = Topic("newsletter", {"de": "Newsletter"}, {"de": "Einmal im Monat."}, "v1")
    engine = open_database(f"sqlite:///{tmp_path / 'consent.db'}")
    try:
        flow = ConsentFlow(ConsentLedger(engine, Client(name="Testwerke", tone="du", topics=(news,)), clock=ManualClock()))
        request = flow.intercept("u1", "web", "Newsletter abonnieren", "de", "m1")
        assert request is not None and request.text.startswith("Bitte bestätige: Du möchtest „Newsletter“ von Testwerke")
        granted = flow.intercept("u1", "web", "JA", "de", "m2")
        assert granted is not None and granted.text.startswith("Danke, deine Anmeldung")
        assert not FORMAL.search(request.text + granted.text)
    finally:
        engine.dispose()
