"""Reading `botkit.yaml`: tone, hours, contact, text overrides and house rules; every problem with line and field."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from botkit import KnowledgeError, load_knowledge
from botkit.channels import HouseRules
from botkit.errors import Problem
from botkit.policy.wording import say
from tests.conftest import SAMPLE

FAQ = "- id: a\n  question: A?\n  answer: a\n  topic: t\n  scope: service\n  lang: de\n"

FULL = """\
client:
  name: Testwerke
  bot_name: Tessa
  tone: du
  phone: "+49 30 1234567"
  email: hallo@testwerke.example
  handover_minutes: 45
hours:
  timezone: Europe/Berlin
  mon: "08:00-12:00,13:00-17:00"
  sat: 09:00-13:00
  sun:
  holidays: [2026-12-24, "2026-12-31"]
texts:
  handover_user_request:
    de: "Klar, ich hole jemanden aus dem Team. {promise}"
  list_label:
    de: Auswahl
house_rules:
  max_bubbles: 2
  bubble_chars: 250
  sms_prefer_gsm7: false
"""


def client_of(tmp_path: Path, text: str):
    (tmp_path / "faq.yaml").write_text(FAQ, encoding="utf-8")
    (tmp_path / "botkit.yaml").write_text(text, encoding="utf-8")
    return load_knowledge(tmp_path).client


def problems_of(tmp_path: Path, text: str) -> list[Problem]:
    with pytest.raises(KnowledgeError) as info:
        client_of(tmp_path, text)
    return info.value.problems


def test_the_sample_client_has_tone_hours_phone_and_email():
    client = load_knowledge(SAMPLE).client
    assert client.tone == "sie" and client.hours is not None and client.hours.timezone == "Europe/Berlin"
    assert client.phone == "0800 123 4567" and client.email.endswith(".example")
    assert "Zählerstand" in say("disclosure", "de", client)


def test_all_new_keys_are_read(tmp_path):
    client = client_of(tmp_path, FULL)
    assert (client.tone, client.phone, client.email, client.handover_minutes) == ("du", "+49 30 1234567", "hallo@testwerke.example", 45)
    assert client.contact == "+49 30 1234567, hallo@testwerke.example"  # the controller's contact in GDPR exports
    assert client.hours is not None and client.hours.week[0] == ((480, 720), (780, 1020)) and client.hours.week[6] == ()
    assert client.hours.holidays == {date(2026, 12, 24), date(2026, 12, 31)}
    assert client.house_rules == HouseRules(max_bubbles=2, bubble_chars=250, sms_prefer_gsm7=False)
    assert say("handover_user_request", "de", client, promise="Gleich.") == "Klar, ich hole jemanden aus dem Team. Gleich."
    assert say("list_label", "de", client) == "Auswahl" and say("list_label", "en", client) == "Options"
    assert say("greeting", "de", client) == "Hallo! Wie kann ich dir helfen?"


def test_without_the_new_keys_the_defaults_hold(tmp_path):
    client = client_of(tmp_path, "client:\n  name: Testwerke\n  contact: 0800 1\n")
    assert (client.tone, client.hours, client.house_rules, client.handover_minutes, client.texts) == ("sie", None, None, 30, {})
    assert "0800 1" in say("nobody_came", "de", client)


@pytest.mark.parametrize(
    ("old", "new", "line", "field", "message"),
    [
        ("tone: du", "tone: ihr", 4, "client.tone", "'ihr' is not a tone; use 'sie' or 'du'"),
        ('phone: "+49 30 1234567"', "phone: anrufen", 5, "client.phone", "is not a phone number"),
        ("email: hallo@testwerke.example", "email: hallo", 6, "client.email", "is not an e-mail address"),
        ("handover_minutes: 45", "handover_minutes: -5", 7, "client.handover_minutes", "must be a number of minutes"),
        ("timezone: Europe/Berlin", "timezone: Europe/Lindenau", 9, "hours.timezone", "is not a known time zone"),
        ('mon: "08:00-12:00,13:00-17:00"', "mon: 8-17", 10, "hours.mon", "is not a time range"),
        ("sat: 09:00-13:00", "sat: 13:00-09:00", 11, "hours.sat", "cannot run past midnight"),
        ('"2026-12-31"', "31.12.2026", 13, "hours.holidays[1]", "is not a date"),
        ("  sun:\n", "  sunday: 10:00-12:00\n", 12, "hours.sunday", "is not a known key"),
        ("{promise}", "{wann}", 16, "texts.handover_user_request.de", "unknown placeholder(s) {wann}"),
        (" {promise}", "", 16, "texts.handover_user_request.de", "must keep the placeholder(s) {promise}"),
        ("  list_label:\n", "  list_labels:\n", 17, "texts.list_labels", "is not a text of the bot"),
        ("max_bubbles: 2", "max_bubbles: 0", 19, "house_rules", "max_bubbles must be an integer >= 1"),
        ("max_bubbles: 2", "max_bubbles: zwei", 20, "house_rules.max_bubbles", "must be int"),
        ("sms_prefer_gsm7: false", "list_label: Optionen", 22, "house_rules.list_label", "is worded per language"),
        ("house_rules:", "house_rule:", 19, "house_rule", "is not a known key"),
        ("  bot_name: Tessa\n", "  bot_nmae: Tessa\n", 3, "client.bot_nmae", "is not a known key"),
    ],
)
def test_a_bad_value_is_reported_with_line_and_field(tmp_path, old, new, line, field, message):
    assert old in FULL
    problems = problems_of(tmp_path, FULL.replace(old, new))
    assert any(p.field == field and message in p.message for p in problems), problems
    (problem,) = [p for p in problems if p.field == field]
    assert problem.line == line and problem.file.endswith("botkit.yaml")
    assert f"botkit.yaml:{line}: '{field}'" in str(KnowledgeError(problems))


def test_hours_that_never_open_are_refused(tmp_path):
    (problem,) = problems_of(tmp_path, "hours:\n  timezone: Europe/Berlin\n  mon: closed\n")
    assert (problem.line, problem.field) == (1, "hours") and "opens on no day" in problem.message


def test_hours_need_a_time_zone(tmp_path):
    (problem,) = problems_of(tmp_path, "hours:\n  mon: 08:00-18:00\n")
    assert problem.field == "hours.timezone" and "Europe/Berlin" in problem.message


def test_a_disclosure_override_must_still_say_it_is_a_bot(tmp_path):
    text = 'texts:\n  disclosure:\n    de: "Hier schreibt {bot} vom Team der {client}."\n    en: "I am {bot}, a bot."\n'
    (problem,) = problems_of(tmp_path, text)
    assert (problem.line, problem.field) == (3, "texts.disclosure.de") and "Art. 50" in problem.message
    released = 'texts:\n  released:\n    de: "Hier ist wieder {bot}."\n'
    assert problems_of(tmp_path, released)[0].field == "texts.released.de"


def test_the_older_client_disclosure_and_capabilities_keys_still_work(tmp_path):
    text = 'client:\n  bot_name: Tessa\n  disclosure:\n    de: "Ich bin {bot}, ein Bot. {capabilities}"\n  capabilities:\n    de: "Ich kenne die FAQ."\n'
    client = client_of(tmp_path, text)
    assert say("disclosure", "de", client) == "Ich bin Tessa, ein Bot. Ich kenne die FAQ."
    both = text + 'texts:\n  disclosure:\n    de: "Ich bin {bot}, ein Bot."\n'
    (problem,) = problems_of(tmp_path, both)
    assert problem.field == "client.disclosure.de" and "keep one" in problem.message


def test_texts_must_be_text_per_language_code(tmp_path):
    problems = problems_of(tmp_path, "texts:\n  greeting:\n    deutsch: Hallo\n    en: [a, b]\n")
    assert {(p.line, p.field) for p in problems} == {(3, "texts.greeting.deutsch"), (4, "texts.greeting.en")}
