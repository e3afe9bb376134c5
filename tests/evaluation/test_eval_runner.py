"""Running the real bot over cases and scripts: outcomes, expectation checks, consent and channel formats."""

from __future__ import annotations

import pytest

from botkit import ConfigError, Draft
from botkit.consent import ConsentFlow
from botkit.evaluation.cases import Case, load_conversations
from botkit.evaluation.runner import NOT_SUPPORTED, conversation_metrics, evaluate_cases, evaluate_conversations

CASES = [
    Case("Wie melde ich meinen Zählerstand?", "zaehlerstand-melden", "de", "t.csv:2"),
    Case("Können Sie mir ein Rezept für Apfelkuchen geben?", None, "de", "t.csv:3"),
    Case("Ich möchte mit einem Mitarbeiter sprechen", None, "de", "t.csv:4"),
]


def test_each_case_is_a_new_conversation_with_decision_ranking_and_latency(bot):
    right, cake, person = evaluate_cases(bot, CASES)
    assert right.answered_right and right.ranked[0] == "zaehlerstand-melden" and right.rank == 1
    assert cake.handed_over and cake.reason == "low_confidence" and cake.retrieval is not None
    assert person.handed_over and person.reason == "user_request" and person.retrieval is None
    assert person.ranked, "ranking metrics retrieve even when the bot answered before retrieving"
    assert all(0.0 <= r.confidence <= 1.0 and r.latency_ms > 0 for r in (right, cake, person))
    assert [r.source for r in (right, cake, person)] == ["t.csv:2", "t.csv:3", "t.csv:4"]


def test_evaluating_on_a_used_database_is_refused(bot):
    evaluate_cases(bot, CASES[:1])
    with pytest.raises(ConfigError, match="fresh database"):
        evaluate_cases(bot, CASES[:1])


SCRIPT = """\
conversations:
  - name: checks that pass
    channel: whatsapp
    consents: []
    turns:
      - user: "Hallo"
        expect: {disclosure: true, handover: false}
      - user: "Wie melde ich meinen Zählerstand?"
        expect: {entry: zaehlerstand-melden, disclosure: false, clarify: false}
      - user: "Ich möchte mit einem Mitarbeiter sprechen"
        expect: {handover: true}
  - name: checks that fail
    channel: web
    consents: []
    turns:
      - user: "Wie melde ich meinen Zählerstand?"
        expect: {disclosure: false, entry: gasgeruch, handover: true, clarify: true}
"""


def test_script_expectations_pass_and_fail_on_what_the_bot_did(bot, tmp_path):
    (tmp_path / "conv.yaml").write_text(SCRIPT, encoding="utf-8")
    passing, failing = evaluate_conversations(bot, load_conversations(tmp_path / "conv.yaml"))
    assert passing.passed and all(c.passed for c in passing.checks)
    assert not failing.passed
    assert [(c.key, c.actual) for c in failing.turns[0].failed] == [
        ("disclosure", True),
        ("entry", "zaehlerstand-melden"),
        ("handover", False),
        ("clarify", False),
    ]
    metrics = conversation_metrics([passing, failing])
    assert (metrics["turns"], metrics["expectations"], metrics["expectations_failed"]) == (4, 10, 4)
    assert metrics["disclosure_rate"] == 1.0 and metrics["format_violations"] == 0
    assert metrics["in_scope_accuracy"] is None


CONSENT_SCRIPT = """\
conversations:
  - name: opted in before, then STOP
    channel: sms
    consents: [angebote-solar]
    turns:
      - user: "Was kostet ein Balkonkraftwerk?"
        expect: {entry: balkonkraftwerk, no_marketing: true}
      - campaign: {topic: angebote-solar, text: "Neu: Rabatt auf Speicher."}
        expect: {delivered: true, consent: {angebote-solar: granted}}
      - user: "STOP"
        expect: {consent: {angebote-solar: withdrawn}}
      - campaign: {topic: angebote-solar, text: "Neu: Rabatt auf Speicher."}
        expect: {delivered: false}
  - name: never opted in
    channel: whatsapp
    consents: []
    turns:
      - user: "Was kostet ein Balkonkraftwerk?"
        expect: {entry: balkonkraftwerk, no_marketing: true}
"""


def test_consent_preload_campaigns_and_withdrawal_are_checked_against_the_ledger(bot, tmp_path):
    (tmp_path / "conv.yaml").write_text(CONSENT_SCRIPT, encoding="utf-8")
    opted_in, never = evaluate_conversations(bot, load_conversations(tmp_path / "conv.yaml"))
    assert opted_in.passed and never.passed, [c for c in (*opted_in.checks, *never.checks) if not c.passed]
    answer, campaign, stop, late = opted_in.turns
    assert "Komplettset mit 800 W" in " ".join(answer.messages)  # the teaser: consent stands
    assert campaign.decision == "campaign" and "Neu: Rabatt auf Speicher." in campaign.messages[0]
    assert late.messages == () and "consent" in late.checks[0].note
    assert conversation_metrics([opted_in, never])["consent_violations"] == 0


class LeakyFlow(ConsentFlow):
    """A broken consent hook that promotes without asking the ledger."""

    def shape(self, entry, user_id, channel, lang):
        return Draft(f"{entry.answer}\n\n{entry.teaser}")


def test_promotion_without_consent_is_a_violation(bot, tmp_path):
    bot.consent = LeakyFlow(bot.consent.ledger)
    (tmp_path / "conv.yaml").write_text(CONSENT_SCRIPT, encoding="utf-8")
    opted_in, never = evaluate_conversations(bot, load_conversations(tmp_path / "conv.yaml"))
    assert opted_in.turns[0].marketing_leaks == ()  # consent stands: the teaser is allowed
    (leak,) = never.turns[0].failed
    assert leak.key == "no_marketing" and "angebote-solar" in leak.note
    assert never.turns[0].marketing_leaks == ("angebote-solar",)
    assert conversation_metrics([opted_in, never])["consent_violations"] == 1


def test_consent_checks_without_a_ledger_fail_as_not_supported(bot, tmp_path):
    bot.consent = None
    (tmp_path / "conv.yaml").write_text(CONSENT_SCRIPT, encoding="utf-8")
    opted_in, _ = evaluate_conversations(bot, load_conversations(tmp_path / "conv.yaml"))
    unsupported = [c for c in opted_in.checks if c.note == NOT_SUPPORTED]
    assert {c.key for c in unsupported} == {"consents", "delivered", "consent"}
    assert not any(c.passed for c in unsupported)
    assert conversation_metrics([opted_in])["expectations_not_supported"] == len(unsupported)
