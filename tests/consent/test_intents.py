"""Which messages are consent steps, in German and English, and which are ordinary questions."""

from __future__ import annotations

import pytest

from botkit.consent.intents import STOP_KEYWORDS, Intent, classify, normalize
from botkit.knowledge import load_knowledge
from tests.conftest import SAMPLE

TOPICS = load_knowledge(SAMPLE).client.topics


@pytest.mark.parametrize(
    "text",
    ["STOP", "Stopp!", "stop all", "ABMELDEN", "abbestellen", "INFOSTOP", "keine Werbung mehr", "Keine Werbung!",
     "Ich möchte keine Werbung mehr", "unsubscribe", "Unsubscribe please", "opt out", "Widerruf", "Ich widerspreche",
     "no more marketing", "I want to withdraw my consent", "stopp bitte", "Werbestopp"],
)
def test_global_withdrawal_keywords_in_both_languages(text):
    assert classify(text, TOPICS) == Intent("stop_all")


@pytest.mark.parametrize(
    ("text", "topic"),
    [("Newsletter abbestellen", "newsletter"), ("STOP Solar", "angebote-solar"), ("keine Solar-Angebote mehr", "angebote-solar"),
     ("Ich möchte keine E-Mobilität-Angebote mehr erhalten", "angebote-emobilitaet"), ("unsubscribe from the newsletter", "newsletter"),
     ("no more solar offers please", "angebote-solar"), ("Energiespar-Newsletter abmelden", "newsletter")],
)
def test_withdrawal_naming_a_topic_withdraws_only_that_topic(text, topic):
    assert classify(text, TOPICS) == Intent("stop_topics", (topic,))


@pytest.mark.parametrize(
    ("text", "topics"),
    [("Ich möchte Solar-Angebote erhalten", ("angebote-solar",)), ("Solar-Angebote abonnieren", ("angebote-solar",)),
     ("Ja, Solar-Angebote abonnieren", ("angebote-solar",)), ("Subscribe: Solar offers", ("angebote-solar",)),
     ("Abonnieren: Solar-Angebote", ("angebote-solar",)), ("Abonnieren: Solar-…", ("angebote-solar",)),
     ("I would like to receive solar offers", ("angebote-solar",)), ("Newsletter abonnieren", ("newsletter",)),
     ("Ich möchte den Newsletter bekommen", ("newsletter",)), ("E-Mobilität abonnieren", ("angebote-emobilitaet",)),
     ("Subscribe to Solar offers and the newsletter", ("angebote-solar", "newsletter"))],
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
    ["Wie melde ich meinen Strom ab?", "Muss ich ein Balkonkraftwerk anmelden?", "Wie stoppe ich meinen Abschlag?",
     "How do I stop my solar panels feeding in at night?", "Ich möchte eine Solaranlage auf dem Dach bekommen",
     "Wie bekomme ich Ihren Newsletter?", "ok", "Verkaufen Sie Balkonkraftwerke?", "Kann ich mich vom Kundenportal abmelden?",
     "Do you offer solar panels?", "Wie kann ich Strom sparen?", ""],
)
def test_service_questions_are_not_consent_steps(text):
    assert classify(text, TOPICS) is None


def test_stop_keywords_survive_normalisation():
    # A keyword that normalisation would change could never match.
    assert all(normalize(k) == k for k in STOP_KEYWORDS)
    assert normalize("Keine WERBUNG mehr!!") == "keine werbung mehr"
    assert normalize("E-Mobilität") == "e mobilitaet"
