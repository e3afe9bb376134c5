"""The grounding gate on its own: every rule rejects, grounded rewordings pass."""

from __future__ import annotations

import pytest

from botkit.policy.grounding import RULES, Grounds, check_reply

SERVICE = (
    "Sie erreichen unseren Kundenservice kostenfrei unter 0800 123 4567 (Mo–Fr 8–20 Uhr), per E-Mail an "
    "kundenservice@stadtwerke-lindenau.example oder über das Kontaktformular. Das Wallbox-Paket kostet 1.199 €, "
    "die Grundgebühr 12,50 € im Monat, gültig bis 31. März 2027.",
    "https://www.stadtwerke-lindenau.example/kontakt",
)
TEASER = "Aktuell für Lindenau-Stromkunden: 5 % Rabatt auf die Montage bei Auftrag bis 31. März 2027."
GROUNDS = Grounds(SERVICE, withheld=(TEASER, "Solar-Angebote"), bot_name="Lina", min_chars=20, max_chars=300)


def rules(text: str, grounds: Grounds = GROUNDS) -> set[str]:
    return {v.rule for v in check_reply(text, grounds)}


@pytest.mark.parametrize(
    "text",
    [
        "Rufen Sie uns kostenlos an: +49 800 1234567, Montag bis Freitag 8:00 bis 20:00 Uhr.",
        "Das Paket kostet 1199 € und die Grundgebühr 12.50 EUR pro Monat.",
        "Der Preis gilt bis zum 31.03.2027.",
        "Schreiben Sie an kundenservice@stadtwerke-lindenau.example oder nutzen Sie stadtwerke-lindenau.example/kontakt.",
        "Hallo, ich bin Lina, der digitale Assistent. Nein, ich bin kein Mensch.",
        "Hier ist Ihr Kontakt zum Kundenservice: das Kontaktformular.",
    ],
)
def test_grounded_rewording_in_other_formats_passes(text):
    assert check_reply(text, GROUNDS) == []


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("", "empty"),
        ("OK", "too_short"),
        ("Kontakt " * 60, "too_long"),
        ("Mehr unter https://evil.example/angebot", "url"),
        ("Schreiben Sie an info@stadtwerke-lindenau.example.", "email"),
        ("Gültig bis 1. April 2027.", "date"),
        ("Rufen Sie 0800 123 4500 an.", "phone"),
        ("Die Grundgebühr beträgt 13,50 € im Monat.", "price"),
        ("Sie haben 14 Tage Zeit.", "number"),
        ("Ab 10:30 Uhr sind wir für Sie da.", "number"),
        ("Ich bin ein echter Mensch und helfe gern.", "human_claim"),
        ("I'm a real person, happy to help.", "human_claim"),
        ("Keine Sorge, ich bin kein Bot.", "human_claim"),
        ("I am not a bot.", "human_claim"),
        ("Ich bin Anna vom Kundenservice.", "persona"),
        ("Hi, my name is Anna.", "persona"),
        ("Mein Name ist Thomas, ich helfe Ihnen.", "persona"),
        ("Übrigens: Mit unserem Gutschein sparen Sie.", "marketing"),
        ("Schauen Sie sich auch unsere Solar-Angebote an.", "marketing"),
        ("Für Lindenau-Stromkunden gibt es Rabatt auf die Montage bei Auftrag.", "marketing"),
    ],
)
def test_each_rule_rejects_what_it_guards(text, rule):
    assert rule in rules(text)


def test_every_rule_has_a_rejecting_case():
    # Keeps the parametrised list above in step with the rules the gate knows.
    covered = {"empty", "too_short", "too_long", "url", "email", "date", "phone", "price", "number", "human_claim", "persona", "marketing"}
    assert covered == set(RULES)


def test_teaser_content_passes_once_it_is_part_of_the_cited_text():
    consented = Grounds((*SERVICE, TEASER), bot_name="Lina")
    assert check_reply("Aktuell gibt es 5 % Rabatt auf die Montage bei Auftrag bis 31.03.2027.", consented) == []


def test_a_name_the_entries_use_is_not_a_persona():
    grounds = Grounds(("Melden Sie den Stand in der Lindenau-App.",), bot_name="Lina")
    assert check_reply("Hier ist Lindenau: melden Sie den Stand in der App.", grounds) == []


def test_a_number_written_differently_in_the_source_counts_as_grounded():
    grounds = Grounds(("Die Jahresablesung kündigen wir zwei Wochen vorher an, Kosten: 0,00 €.",))
    assert rules("Die Ablesung kostet 0 €.", grounds) == set()  # no minimum length here
    assert rules("Die Ablesung kostet 2 €.", grounds) == {"price"}


def test_us_and_european_slash_dates_both_match():
    grounds = Grounds(("Stichtag ist der 31.03.2027.",))
    assert check_reply("Stichtag: 03/31/2027", grounds) == []
    assert check_reply("Stichtag: 31/03/2027", grounds) == []
    assert rules("Stichtag: 30/03/2027", grounds) == {"date"}


def test_violations_name_the_offending_fragment():
    [violation] = check_reply("Rufen Sie 0800 123 4500 an.", GROUNDS)
    assert violation.fragment == "0800 123 4500"
    assert str(violation) == "phone: '0800 123 4500'"
