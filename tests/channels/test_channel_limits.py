"""The one limit checker (`botkit.channels.limits`): which limit applies, and what the bot sent."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from botkit.channels import get_profile, lint_entries, render, render_report
from botkit.channels.limits import OptionLimit, TextLimit, message_problems, option_limit, text_limit, visible_text
from botkit.types import Draft, FaqEntry, Message

CHANNELS = ["whatsapp", "messenger", "telegram", "sms", "web"]


@pytest.mark.parametrize(
    ("message", "problem"),
    [
        (Message("whatsapp", "x" * 4097), "text is 4097 long, the whatsapp limit is 4096"),
        (Message("messenger", "x" * 2001), "text is 2001 long, the messenger limit is 2000"),
        (Message("telegram", "1. Schritt"), "invalid MarkdownV2"),
        (Message("web", " "), "empty message"),
        (
            Message("whatsapp", "Frage?", ("Eine viel zu lange Antwort",), payload={"interactive": {"type": "button"}}),
            "quick reply 'Eine viel zu lange Antwort' is longer than 20",
        ),
        (Message("whatsapp", "Bild", image="https://x.example/a.png", payload={}), None),
        (Message("whatsapp", "x" * 1025, image="https://x.example/a.png"), "caption is 1025 long, the whatsapp limit is 1024"),
        (Message("whatsapp", "Frage?", ("Eine lange Antwort, 24 Z",), payload={"interactive": {"type": "list"}}), None),
        (Message("telegram", "1\\. Schritt"), None),
    ],
)
def test_messages_are_checked_against_their_channels_hard_limits(message, problem):
    found = message_problems(message)
    assert any(problem in p for p in found) if problem else found == []


@pytest.mark.parametrize("channel", ["whatsapp", "messenger", "telegram", "sms", "web"])
def test_what_the_renderer_sends_fits_every_channel(channel):
    draft = Draft("*Wichtig:* " + "Ein Satz mit Punkt. " * 400, quick_replies=("Zählerstand melden", "Abschlag ändern, aber wie genau?"))
    assert [p for m in render(channel, draft) for p in message_problems(m)] == []


def test_sms_length_counts_segments_units():
    assert message_problems(Message("sms", "€" * 801)) == ["text is 1602 long, the sms limit is 1600"]


@pytest.mark.parametrize(
    ("channel", "image", "options", "expected"),
    [
        ("whatsapp", False, False, TextLimit(4096, "text")),
        ("whatsapp", False, True, TextLimit(1024, "interactive body")),
        ("whatsapp", True, True, TextLimit(1024, "caption")),  # equal limits: either is right, the caption sorts first
        ("messenger", True, True, TextLimit(2000, "interactive body")),  # no captions: an image is a message of its own
        ("sms", False, True, TextLimit(1600, "text")),  # no interactive messages on SMS
        ("telegram", True, False, TextLimit(1024, "caption")),
    ],
)
def test_the_smallest_applicable_text_limit_is_chosen(channel, image, options, expected):
    assert text_limit(get_profile(channel), image=image, options=options) == expected


def test_whatsapp_list_rows_allow_longer_titles_than_reply_buttons():
    profile = get_profile("whatsapp")
    assert option_limit(profile, as_list=False) == OptionLimit(3, 20, "codepoints")
    assert option_limit(profile, as_list=True) == OptionLimit(10, 24, "codepoints")
    assert option_limit(get_profile("telegram"), as_list=False).unit == "utf16"


def test_rendering_and_lint_report_the_limit_that_applied():
    draft = Draft("Satz. " * 300, quick_replies=("Ja", "Nein"))
    report = render_report("whatsapp", draft)
    assert report.limit == TextLimit(1024, "interactive body") and report.options.mode == "buttons"
    entry = FaqEntry("lang", "Lang?", draft.text, "test", "service", "de", quick_replies=draft.quick_replies)
    [finding] = [f for f in lint_entries([entry], ["whatsapp"]) if f.rule == "text_length"]
    assert finding.limit == 1024 and "over the interactive body limit" in finding.note


@given(
    st.sampled_from(CHANNELS),
    st.text(max_size=3000),
    st.lists(st.text(min_size=1, max_size=40), max_size=12),
    st.one_of(st.none(), st.just("https://example.org/bild.png")),
)
def test_the_checker_never_refuses_what_the_renderer_sends(channel, text, replies, image):
    for message in render(channel, Draft(text, quick_replies=tuple(replies), image=image)):
        assert message_problems(message) == [], (channel, message)


def test_the_checker_refuses_a_message_one_unit_over_each_limit():
    for channel in CHANNELS:
        limit = get_profile(channel).max_text
        assert message_problems(Message(channel, "a" * limit)) == []
        assert message_problems(Message(channel, "a" * (limit + 1))) == [f"text is {limit + 1} long, the {channel} limit is {limit}"]


def test_visible_text_drops_markup_as_the_user_reads_it():
    assert visible_text(Message("whatsapp", "*Wichtig:* heute")) == "Wichtig: heute"
    assert visible_text(Message("telegram", "1\\. Schritt")) == "1. Schritt"
