"""Which messages are consent steps, in German and English, and which are ordinary questions."""

from __future__ import annotations

from pathlib import Path

import pytest

from botkit.consent.intents import STOP_KEYWORDS, Intent, classify, normalize
from botkit.knowledge import load_knowledge
from botkit.policy.intents import IntentMatcher
from tests.conftest import SAMPLE

TOPICS = load_knowledge(SAMPLE).client.topics


@pytest.mark.parametrize(
    "text",
    [
        "STOP",
        "Stopp!",
        "stop all",
        "ABMELDEN",
        "abbestellen",
        "INFOSTOP",
        "keine Werbung mehr",
        "Keine Werbung!",
        "Ich möchte keine Werbung mehr",
        "unsubscribe",
        "Unsubscribe please",
        "opt out",
        "Widerruf",
        "Ich widerspreche",
        "no more marketing",
        "I want to withdraw my consent",
        "stopp bitte",
        "Werbestopp",
    ],
)
def test_global_withdrawal_keywords_in_both_languages(text):
    assert classify(text, TOPICS) == Intent("stop_all")


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("Newsletter abbestellen", "newsletter"),
        ("STOP Solar", "angebote-solar"),
        ("keine Solar-Angebote mehr", "angebote-solar"),
        ("Ich möchte keine E-Mobilität-Angebote mehr erhalten", "angebote-emobilitaet"),
        ("unsubscribe from the newsletter", "newsletter"),
        ("no more solar offers please", "angebote-solar"),
        ("Energiespar-Newsletter abmelden", "newsletter"),
    ],
)
def test_withdrawal_naming_a_topic_withdraws_only_that_topic(text, topic):
    assert classify(text, TOPICS) == Intent("stop_topics", (topic,))


@pytest.mark.parametrize(
    ("text", "topics"),
    [
        ("Ich möchte Solar-Angebote erhalten", ("angebote-solar",)),
        ("Solar-Angebote abonnieren", ("angebote-solar",)),
        ("Ja, Solar-Angebote abonnieren", ("angebote-solar",)),
        ("Subscribe: Solar offers", ("angebote-solar",)),
        ("Abonnieren: Solar-Angebote", ("angebote-solar",)),
        ("Abonnieren: Solar-…", ("angebote-solar",)),
        ("I would like to receive solar offers", ("angebote-solar",)),
        ("Newsletter abonnieren", ("newsletter",)),
        ("Ich möchte den Newsletter bekommen", ("newsletter",)),
        ("E-Mobilität abonnieren", ("angebote-emobilitaet",)),
        ("Subscribe to Solar offers and the newsletter", ("angebote-solar", "newsletter")),
    ],
)
def test_opt_in_requests(text, topics):
    assert classify(text, TOPICS) == Intent("opt_in", topics)


@pytest.mark.parametrize("text", ["JA", "ja bitte", "Ja!", "YES", "yes please", "Ja, ich bestätige", "confirm"])
def test_explicit_confirmations(text):
    assert classify(text, TOPICS) == Intent("confirm")


@pytest.mark.parametrize("text", ["Nein", "no", "nein danke", "No thanks"])
def test_refusals(text):
    assert classify(text, TOPICS) == Intent("decline")


@pytest.mark.parametrize(
    "text",
    [
        "Wie melde ich meinen Strom ab?",
        "Muss ich ein Balkonkraftwerk anmelden?",
        "Wie stoppe ich meinen Abschlag?",
        "How do I stop my solar panels feeding in at night?",
        "Ich möchte eine Solaranlage auf dem Dach bekommen",
        "Wie bekomme ich Ihren Newsletter?",
        "ok",
        "Verkaufen Sie Balkonkraftwerke?",
        "Kann ich mich vom Kundenportal abmelden?",
        "Do you offer solar panels?",
        "Wie kann ich Strom sparen?",
        "",
    ],
)
def test_service_questions_are_not_consent_steps(text):
    assert classify(text, TOPICS) is None


def test_stop_keywords_survive_normalisation():
    # A keyword that normalisation would change could never match.
    assert all(normalize(k) == k for k in STOP_KEYWORDS)
    assert normalize("Keine WERBUNG mehr!!") == "keine werbung mehr"
    assert normalize("E-Mobilität") == "e mobilitaet"


# Withdrawal in every phrasing (issue 12, item 3): the exact rules plus the intent matcher, measured on
# the committed sets in tests/data/intents/ (written for these tests, apart from the example
# utterances and the tuning set).
INTENT_DATA = Path(__file__).resolve().parents[1] / "data" / "intents"
ISSUE_EXAMPLES = [
    "I want to unsubscribe",
    "Unsubscribe me",
    "Ich möchte mich abmelden",
    "Bitte melden Sie mich ab",
    "Ich will keine Angebote mehr",
    "Stop sending me messages",
    "Opt me out",
    "Stop!!! Stop!!!",
    "Stopp alles",
    "ＳＴＯＰ",
    "S\u00adTOP",
    "🛑",
]


def intent_lines(name: str) -> list[str]:
    return [line for line in (INTENT_DATA / name).read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def matcher(embedder) -> IntentMatcher:
    return IntentMatcher(embedder, bot_names=(load_knowledge(SAMPLE).client.bot_name,))


def withdraws(intent: Intent | None) -> bool:
    return intent is not None and intent.kind in {"stop_all", "stop_topics"}


def test_withdrawal_sets_are_large_enough():
    assert len(intent_lines("withdrawal.txt")) >= 150
    assert len(intent_lines("withdrawal_near_miss.txt")) >= 150
    assert "S\u00adTOP" in intent_lines("withdrawal.txt")  # a real soft hyphen, as in the audit


@pytest.mark.parametrize("text", ISSUE_EXAMPLES)
def test_the_audits_missed_ways_of_saying_stop_withdraw(matcher, text):
    assert withdraws(classify(text, TOPICS, matcher))


def test_withdrawal_recall_is_at_least_98_percent(matcher):
    texts = intent_lines("withdrawal.txt")
    missed = [t for t in texts if not withdraws(classify(t, TOPICS, matcher))]
    by_rules = sum(withdraws(classify(t, TOPICS)) for t in texts)
    by_matcher = sum(matcher.classify(t).kind == "withdrawal" for t in texts)
    recall = 1 - len(missed) / len(texts)
    print(
        f"\nwithdrawal recall {recall:.1%} of {len(texts)} (exact rules alone {by_rules / len(texts):.1%}, "
        f"matcher alone {by_matcher / len(texts):.1%}); missed: {missed}"
    )
    assert recall >= 0.98


def test_near_misses_rarely_withdraw(matcher):
    texts = intent_lines("withdrawal_near_miss.txt")
    wrong = [t for t in texts if withdraws(classify(t, TOPICS, matcher))]
    rate = len(wrong) / len(texts)
    print(f"\nfalse withdrawals {rate:.1%} of {len(texts)} near misses: {wrong}")
    assert rate <= 0.02


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("Ich will keine Angebote zur E-Mobilität mehr", "angebote-emobilitaet"),
        ("Bitte keine Angebote mehr zu Solar", "angebote-solar"),
        ("Stop sending me e-mobility offers", "angebote-emobilitaet"),
        ("I no longer want your newsletter", "newsletter"),
    ],
)
def test_a_withdrawal_read_by_meaning_still_names_its_topic(matcher, text, topic):
    intent = classify(text, TOPICS, matcher)
    assert intent is not None and intent.kind == "stop_topics" and intent.topics == (topic,)


def test_normalisation_lets_the_exact_rules_hear_width_and_soft_hyphens():
    assert classify("ＳＴＯＰ", TOPICS) == Intent("stop_all")
    assert classify("S\u00adTOP", TOPICS) == Intent("stop_all")
    assert classify("Ｓｔｏｐｐ Ｓｏｌａｒ", TOPICS) == Intent("stop_topics", ("angebote-solar",))


@pytest.mark.parametrize(
    "text",
    [
        "Wie melde ich meinen Strom ab?",
        "Wie stoppe ich meinen Abschlag?",
        "Kann ich mich vom Kundenportal abmelden?",
        "How do I stop my solar panels feeding in at night?",
        "Wie bekomme ich Ihren Newsletter?",
        "ok",
        "Hallo Lina",
    ],
)
def test_service_questions_are_not_consent_steps_with_the_matcher_either(matcher, text):
    assert classify(text, TOPICS, matcher) is None


UNSURE = "Hört auf mir zu schreiben"  # a withdrawal nearly as close to a customer question


def subscribe(flow, user: str) -> None:
    flow.intercept(user, "web", "Ich möchte Solar-Angebote erhalten", "de", f"{user}-1")
    flow.intercept(user, "web", "JA", "de", f"{user}-2")
    assert flow.ledger.is_granted(user, "web", "angebote-solar")


def test_an_unsure_withdrawal_is_carried_out_and_says_so(bot):
    flow = bot.consent  # open_bot wires the matcher into the consent flow
    meant = flow.matcher.classify(UNSURE)
    assert meant.kind == "withdrawal" and not meant.sure, meant  # precondition: the example is still unsure
    subscribe(flow, "u-unsure")
    draft = flow.intercept("u-unsure", "web", UNSURE, "de", "u-unsure-3")
    assert draft is not None and "Solar-Angebote" in draft.text and "als Abmeldung verstanden" in draft.text
    assert not flow.ledger.is_granted("u-unsure", "web", "angebote-solar")


def test_an_unsure_withdrawal_with_nothing_to_withdraw_is_left_to_be_answered(bot):
    assert bot.consent.intercept("u-none", "web", UNSURE, "de", "m1") is None


def test_a_withdrawal_in_a_sentence_withdraws_without_a_caveat(bot):
    flow = bot.consent
    subscribe(flow, "u-sure")
    draft = flow.intercept("u-sure", "web", "Ich möchte mich abmelden", "de", "u-sure-3")
    assert draft is not None and "keine Werbung mehr" in draft.text and "verstanden" not in draft.text
    assert not flow.ledger.is_granted("u-sure", "web", "angebote-solar")


def test_stop_in_a_sentence_is_heard_while_a_person_has_the_conversation(bot):
    flow = bot.consent
    subscribe(flow, "u-person")
    draft = flow.intercept_withdrawal("u-person", "web", "Stop sending me messages", "en", "u-person-3")
    assert draft is not None and not flow.ledger.is_granted("u-person", "web", "angebote-solar")
