"""Lint: hard platform limits and house rules per entry and channel."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from botkit.channels import (
    CHANNELS,
    HouseRules,
    LintFinding,
    format_findings,
    has_hard_findings,
    lint_entries,
)
from botkit.errors import ConfigError
from botkit.types import FaqEntry

SAMPLE = Path(__file__).resolve().parents[2] / "knowledge"

SENTENCE = "Ihren Zählerstand melden Sie bequem online im Kundenportal oder in der App. "


def entry(answer: str, quick_replies: tuple[str, ...] = (), links: tuple[str, ...] = (), id: str = "e1") -> FaqEntry:
    return FaqEntry(
        id=id,
        question="Frage?",
        answer=answer,
        topic="service",
        scope="service",
        lang="de",
        links=links,
        quick_replies=quick_replies,
    )


def rules_of(findings: list[LintFinding], channel: str) -> dict[str, LintFinding]:
    return {f.rule: f for f in findings if f.channel == channel}


def test_short_answer_has_no_findings():
    assert lint_entries([entry("Ja, das geht.", ("Kontakt",))], CHANNELS) == []


def test_answer_over_the_text_limit_is_a_hard_finding():
    findings = lint_entries([entry(SENTENCE * 60)], CHANNELS)  # ~4500 characters
    whatsapp = rules_of(findings, "whatsapp")["text_length"]
    assert (whatsapp.measured, whatsapp.limit, whatsapp.hard) == (len((SENTENCE * 60).strip()), 4096, True)
    assert rules_of(findings, "messenger")["text_length"].limit == 2000
    assert rules_of(findings, "sms")["text_length"].limit == 1600
    assert has_hard_findings(findings)


def test_long_answer_breaks_house_rules_before_platform_limits():
    findings = lint_entries([entry(SENTENCE * 20)], ["whatsapp"])  # ~1500 characters
    found = rules_of(findings, "whatsapp")
    assert set(found) == {"bubble_length", "wall_of_text"}
    assert found["bubble_length"].limit == 360 and not found["bubble_length"].hard
    assert found["wall_of_text"].measured == len((SENTENCE * 20).strip())
    assert not has_hard_findings(findings)


def test_too_many_bubbles_when_the_hard_limit_forces_them():
    rules = HouseRules(bubble_chars=300, max_bubbles=1)
    findings = lint_entries([entry(SENTENCE * 40)], ["messenger"], rules)  # ~3000 > 2000
    found = rules_of(findings, "messenger")
    assert found["bubbles"].measured == 2 and found["bubbles"].limit == 1
    assert found["text_length"].hard


def test_interactive_body_limit_applies_with_buttons():
    findings = lint_entries([entry(SENTENCE * 16, ("Ja",))], ["whatsapp"], HouseRules(bubble_chars=2000))
    found = rules_of(findings, "whatsapp")["text_length"]
    assert found.limit == 1024 and "interactive" in found.note


def test_overlong_url_is_cut_and_reported():
    url = "https://example.de/" + "a" * 2100
    found = rules_of(lint_entries([entry(f"Siehe {url}")], ["messenger"]), "messenger")
    assert found["word_length"].measured == len(url)
    assert found["word_length"].hard


def test_too_many_buttons_per_channel():
    titles = tuple(f"Option {i}" for i in range(14))
    findings = lint_entries([entry("Bitte wählen:", titles)], CHANNELS)
    assert rules_of(findings, "whatsapp")["buttons"].limit == 10  # list rows
    assert rules_of(findings, "messenger")["buttons"].limit == 13
    assert "buttons" not in rules_of(findings, "sms")  # SMS lists options by design
    assert all(rules_of(findings, c)["quick_replies"].hard is False for c in CHANNELS)


def test_long_titles_are_hard_findings_with_the_shortened_form():
    findings = lint_entries([entry("Was möchten Sie tun?", ("Öffnungszeiten am Wochenende",))], CHANNELS)
    messenger = rules_of(findings, "messenger")["button_title"]
    assert (messenger.measured, messenger.limit) == (28, 20)
    assert "Öffnungszeiten am…" in messenger.note
    # WhatsApp switches to a list (24 characters) and still has to shorten.
    assert rules_of(findings, "whatsapp")["button_title"].limit == 24
    assert "button_title" not in rules_of(findings, "telegram")


def test_sms_reports_characters_forcing_ucs2():
    found = rules_of(lint_entries([entry("Wasserhärte 14 °dH 😀")], ["sms"]), "sms")["sms_ucs2"]
    assert found.measured == 2 and not found.hard
    assert "U+00B0" in found.note


def test_typographic_quotes_do_not_force_ucs2():
    assert lint_entries([entry("„Tarif“ – jetzt…")], ["sms"]) == []


def test_literal_marker_that_whatsapp_would_format_is_reported():
    # The title "_0_" (from "*_0*_") is plain text but WhatsApp would read it as italic.
    findings = lint_entries([entry("", ("*_0*_",))], ["whatsapp"])
    assert rules_of(findings, "whatsapp")["literal_markup"].measured == 1


def test_unknown_channel_raises_before_checking():
    with pytest.raises(ConfigError, match="telegram"):
        lint_entries([entry("x")], ["whatsapp", "fax"])


def test_format_findings_is_a_table_with_a_summary():
    findings = lint_entries([entry(SENTENCE * 60, id="zaehlerstand")], ["whatsapp"])
    table = format_findings(findings)
    lines = table.splitlines()
    assert lines[0].split() == ["entry", "channel", "rule", "measured", "limit", "kind", "note"]
    assert any(line.startswith("zaehlerstand") and "HARD" in line for line in lines)
    assert lines[-1] == f"{len(findings)} findings (1 hard) in 1 entries"
    assert format_findings([]).startswith("No findings")


def test_findings_serialise_to_json():
    finding = lint_entries([entry(SENTENCE * 60)], ["sms"])[0]
    data = json.loads(json.dumps([finding.to_dict()]))
    assert set(data[0]) == {"entry_id", "channel", "rule", "measured", "limit", "hard", "note"}


def _sample_entries() -> list[FaqEntry]:
    if not SAMPLE.is_dir():
        pytest.skip(f"no sample knowledge base at {SAMPLE}")
    from botkit.knowledge import load_knowledge

    return list(load_knowledge(SAMPLE).entries)


def test_sample_knowledge_base_breaks_no_hard_limit():
    entries = _sample_entries()
    findings = lint_entries(entries, CHANNELS)
    assert not has_hard_findings(findings), format_findings(findings)
    # The sample answers are short: only SMS-specific house findings are expected.
    assert {f.rule for f in findings} <= {"sms_ucs2"}, format_findings(findings)
