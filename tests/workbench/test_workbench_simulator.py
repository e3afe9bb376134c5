"""The in-notebook chat simulator on the real bot, with and without its widgets."""

from __future__ import annotations

import pytest

from botkit.channels import CHANNELS, render
from botkit.errors import ConfigError
from botkit.platforms import PLATFORMS
from botkit.platforms.base import Choices
from botkit.platforms.web import Web
from botkit.types import Decision, Draft, Message
from botkit.workbench.bubbles import bot_bubbles, reply_options, user_bubble
from botkit.workbench.simulator import ALL_TOPICS, NO_CONSENT, ChatSimulator, channel_previews, transcripts

TEASER = "Komplettset mit 800 W"  # from the balkonkraftwerk entry's teaser


def test_a_handover_waits_in_the_queue_until_a_person_takes_it_then_the_bot_is_silent(shared_bot):
    sim = ChatSimulator(shared_bot, channel="whatsapp")
    first = sim.send("Wie melde ich meinen Zählerstand?")
    assert first.disclosed and first.entries == ("zaehlerstand-melden",)
    handover = sim.send("Ich möchte mit einem Mitarbeiter sprechen")
    assert handover.decision == Decision.HANDOVER and sim.handover.status == "waiting" and not sim.with_human
    assert sim.handover.id in {h.id for h in shared_bot.queue()}
    sim.take("Jana")
    assert sim.with_human and sim.handover.taken_by == "Jana"
    assert sim.send("Hallo?").decision == Decision.SILENT
    [said] = sim.person_says("Hallo, hier ist Jana. Ich sehe mir das an.")
    assert said.channel == "whatsapp" and "hier ist Jana" in said.text
    page = sim.chat_html()
    assert "kein Mensch" in page  # the disclosure bubble
    assert "waiting in the queue for a person" in page and "Jana took the conversation" in page
    assert "Jana (a person) writes:" in page and "Ich sehe mir das an." in page
    assert {"role": "person", "text": "Hallo, hier ist Jana. Ich sehe mir das an."} in [
        {"role": t["role"], "text": t["text"]} for t in shared_bot.handover(sim.handover.id).transcript
    ]


def test_writing_as_the_person_needs_the_conversation_taken_first(shared_bot):
    sim = ChatSimulator(shared_bot, channel="web")
    with pytest.raises(ConfigError, match="nothing to take"):
        sim.take()
    sim.send("Ich möchte mit einem Mitarbeiter sprechen")
    with pytest.raises(ConfigError, match="take the conversation first"):
        sim.person_says("Hallo")


def test_after_the_person_hands_back_the_bot_answers_and_discloses_again(shared_bot):
    sim = ChatSimulator(shared_bot, channel="telegram")
    sim.send("Ich möchte mit einem Mitarbeiter sprechen")
    sim.take()
    sim.release()
    assert not sim.with_human and sim.handover is None
    again = sim.send("Wie kann ich meinen Vertrag kündigen?")
    assert again.decision == Decision.ANSWERED and again.disclosed
    assert "handed the conversation back" in sim.chat_html()


def test_the_side_panel_shows_decision_confidence_and_cited_entries(shared_bot):
    sim = ChatSimulator(shared_bot, channel="web")
    assert "Send a message" in sim.details_html()
    sim.send("Wie melde ich meinen Zählerstand?")
    details = sim.details_html()
    assert "answered" in details and "zaehlerstand-melden" in details and "Wie melde ich meinen Zählerstand?" in details
    assert f"threshold {shared_bot.limits.threshold:.2f}" in details and "closest entries" in details


def test_a_consent_profile_decides_whether_marketing_content_is_shown(shared_bot):
    # titles in the client's language; a topic id names its profile too
    assert list(ChatSimulator(shared_bot).profiles) == [NO_CONSENT, "Solar-Angebote", "E-Mobilität", "Energiespar-Newsletter", ALL_TOPICS]
    assert ChatSimulator(shared_bot, consent="angebote-solar").consent == "Solar-Angebote"
    opted_in = ChatSimulator(shared_bot, channel="whatsapp", consent="Solar-Angebote")
    not_opted_in = ChatSimulator(shared_bot, channel="whatsapp")
    with_teaser = opted_in.send("Verkauft ihr Balkonkraftwerke?")
    without = not_opted_in.send("Verkauft ihr Balkonkraftwerke?")
    assert any(TEASER in m.text for m in with_teaser.messages)
    assert not any(TEASER in m.text for m in without.messages)
    assert TEASER in transcripts([opted_in, not_opted_in]).data


def test_switching_channel_or_profile_starts_a_new_disclosed_conversation(shared_bot):
    sim = ChatSimulator(shared_bot, channel="whatsapp")
    sim.send("Wie melde ich meinen Zählerstand?")
    before = sim.conversation_id
    sim.reset(channel="sms")
    assert sim.conversation_id != before and sim.turns == []
    reply = sim.send("Wie melde ich meinen Zählerstand?")
    assert reply.disclosed and all(m.channel == "sms" for m in reply.messages)
    with pytest.raises(ConfigError, match="known: whatsapp"):
        sim.reset(channel="fax")
    with pytest.raises(ConfigError, match="unknown consent profile"):
        ChatSimulator(shared_bot, consent="everything")


def test_the_widgets_send_typed_text_and_tapped_buttons(shared_bot):
    sim = ChatSimulator(shared_bot, channel="messenger")
    sim.show()  # headless: builds the widgets; display() prints their repr
    view = sim._view
    view.text.value = "Wie melde ich meinen Zählerstand?"  # what pressing Enter does
    assert [t.text for t in sim.turns] == ["Wie melde ich meinen Zählerstand?"] and view.text.value == ""
    assert "zaehlerstand-melden" in view.chat.value
    buttons = view.options.children
    assert [b.description for b in buttons] == ["Ablesetermin", "Zählerwechsel"]
    buttons[0].click()
    assert [t.text for t in sim.turns] == ["Wie melde ich meinen Zählerstand?", "Ablesetermin"]
    view.text.value = "Ich möchte mit einem Mitarbeiter sprechen"
    panel = view.queue
    assert sim.conversation_id in panel.table.value and not panel.take.disabled and panel.say.disabled
    panel.person.value = "Jana"
    panel.take.click()
    assert sim.with_human and panel.take.disabled and not panel.say.disabled
    panel.text.value = "Hallo, hier ist Jana."  # Enter in the person's box
    assert "Jana (a person) writes:" in view.chat.value and "hier ist Jana" in view.chat.value
    assert not view.hand_back.disabled
    view.hand_back.click()
    assert view.hand_back.disabled and not sim.with_human
    view.consent.value = "Solar-Angebote"
    assert sim.turns == [] and sim.consent == "Solar-Angebote"


@pytest.mark.parametrize("channel", CHANNELS)
def test_buttons_are_read_back_from_each_channels_payload(channel):
    messages = render(channel, Draft("Was möchten Sie tun?", quick_replies=("Zählerstand", "Abschlag")))
    options = [o for m in messages for o in reply_options(m)]
    if channel == "sms":  # no buttons: the options are numbered text
        assert options == [] and "1. Zählerstand" in messages[-1].text
    else:
        assert options == [("Zählerstand", "Zählerstand"), ("Abschlag", "Abschlag")]
        assert "Abschlag" in bot_bubbles(messages, channel)


def test_a_whatsapp_list_message_shows_its_button_and_rows():
    titles = ("Zählerstand melden", "Abschlag ändern", "Umzug melden", "Vertrag kündigen")
    [message] = render("whatsapp", Draft("Wobei kann ich helfen?", quick_replies=titles))
    assert [shown for shown, _ in reply_options(message)] == list(titles)
    page = bot_bubbles([message], "whatsapp")
    assert "☰ Optionen" in page and "• Vertrag kündigen" in page


def test_the_bubbles_ask_the_platform_registry_for_a_messages_options(monkeypatch):
    """What the simulator shows and taps is the platform's own reading of its payload: no platform names here."""

    class MenuWeb(Web):
        def choices(self, message: Message) -> Choices:
            return Choices((("Ja", "ja-1"), ("Nein", "nein-1")), menu="Auswahl")

    monkeypatch.setitem(PLATFORMS, "web", MenuWeb())
    message = Message("web", "Weiter?")
    assert reply_options(message) == [("Ja", "ja-1"), ("Nein", "nein-1")]
    page = bot_bubbles([message], "web")
    assert "☰ Auswahl" in page and "• Nein" in page


def test_text_is_escaped_styled_and_linked():
    assert "&lt;script&gt;" in user_bubble("<script>alert(1)</script>", "web")
    [message] = render("whatsapp", Draft("*Wichtig:* siehe https://www.stadtwerke-lindenau.example/x_y"))
    page = bot_bubbles([message], "whatsapp")
    assert "<b>Wichtig:</b>" in page and 'href="https://www.stadtwerke-lindenau.example/x_y"' in page
    preview = channel_previews({"sms": render("sms", Draft("Hallo"))}).data
    assert "SMS" in preview and "Hallo" in preview
