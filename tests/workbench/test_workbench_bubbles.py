"""The simulator's bubbles take each platform's look and name from the platform registry."""

from __future__ import annotations

from botkit.channels import render
from botkit.consent import ConsentFlow, ConsentLedger
from botkit.db import open_database
from botkit.platforms import PLATFORMS
from botkit.types import Client, Draft, Topic
from botkit.workbench.bubbles import bot_bubbles, chat, display_name, look


def test_every_platform_has_a_display_name_and_a_look_used_by_the_simulator_and_consent_texts(tmp_path):
    for name, platform in PLATFORMS.items():
        assert platform.display_name and look(name) is platform.look and display_name(name) == platform.display_name
        assert platform.look.background in chat("", name)
    assert look("unknown") is PLATFORMS["web"].look and display_name("unknown") == "unknown"
    assert (display_name("whatsapp"), display_name("sms"), display_name("web")) == ("WhatsApp", "SMS", "Web chat")
    solar = Topic("angebote-solar", {"de": "Solar-Angebote"}, {"de": "Angebote rund um Solar."}, "v1")
    engine = open_database(f"sqlite:///{tmp_path / 'botkit.db'}")
    try:
        flow = ConsentFlow(ConsentLedger(engine, Client(name="Stadtwerke Test", topics=(solar,))))
        for channel in ("telegram", "web"):
            draft = flow.intercept(f"u-{channel}", channel, "Ich möchte Solar-Angebote erhalten", "de", None)
            assert draft is not None and f"hier im Chat ({PLATFORMS[channel].display_name})" in draft.text
    finally:
        engine.dispose()


def test_buttons_stack_where_the_platform_stacks_them():
    draft = Draft("Worum geht es?", quick_replies=("Zählerstand", "Abschlag"))
    assert PLATFORMS["telegram"].look.stacked_buttons and not PLATFORMS["messenger"].look.stacked_buttons
    assert 'class="bk-buttons stacked"' in bot_bubbles(render("telegram", draft), "telegram")
    shown = bot_bubbles(render("messenger", draft), "messenger")
    assert 'class="bk-buttons"' in shown and "stacked" not in shown and "Zählerstand" in shown


def test_whatsapp_markers_show_as_styles_elsewhere_as_plain_text():
    assert "<b>Wichtig:</b>" in bot_bubbles(render("whatsapp", Draft("*Wichtig:* heute")), "whatsapp")
    assert "Wichtig: heute" in bot_bubbles(render("web", Draft("*Wichtig:* heute")), "web")
