"""What each platform module says about business-initiated messages: reach, payloads, rate limits, "too fast"."""

from __future__ import annotations

import json

import pytest

from botkit.channels import render
from botkit.platforms import PLATFORMS, Outgoing, get_platform
from botkit.platforms.outreach import WINDOW_SECONDS, Reach, error_codes
from botkit.types import Draft

NOW = 1_800_000_000.0
HOUR = 3600.0


@pytest.mark.parametrize("name", sorted(PLATFORMS))
def test_every_rate_limit_is_cited_with_a_status(name):
    for limit in get_platform(name).rate_limits:
        assert limit.per_second > 0
        assert limit.status in ("official", "secondary")
        assert "2026" in limit.source  # dated: platforms change their limits


def test_documented_rates_are_the_ones_the_sources_give():
    rates = {(n, r.scope): r.per_second for n, p in PLATFORMS.items() for r in p.rate_limits}
    assert rates == {
        ("whatsapp", "sender"): 80.0,
        ("whatsapp", "recipient"): pytest.approx(1 / 6),
        ("messenger", "sender"): 300.0,
        ("telegram", "sender"): 30.0,
        ("telegram", "recipient"): 1.0,
    }


@pytest.mark.parametrize(
    ("name", "hours_ago", "template", "expected"),
    [
        ("whatsapp", 1, None, "text"),
        ("whatsapp", 25, "offer_1", "template"),
        ("whatsapp", 25, None, "outside_window"),
        ("whatsapp", None, None, "outside_window"),
        ("messenger", 23.9, None, "text"),
        ("messenger", 24.1, "offer_1", "outside_window"),  # templates do not exist there; tags may not carry promotions
        ("telegram", 1000, None, "text"),
        ("telegram", None, None, "unreachable"),
        ("sms", None, None, "text"),
        ("web", 0.1, None, "unreachable"),
        ("chatwoot", 0.1, None, "unreachable"),
    ],
)
def test_each_platform_decides_who_can_be_messaged_first(name, hours_ago, template, expected):
    last = None if hours_ago is None else NOW - hours_ago * HOUR
    reach = get_platform(name).reach(last, NOW, template)
    assert (reach.mode or reach.why) == expected
    assert bool(reach.reason) == (reach.mode is None)


def test_the_window_is_24_hours():
    assert WINDOW_SECONDS == 24 * HOUR


def test_whatsapp_outside_the_window_sends_the_approved_template_in_the_users_language():
    rendered = render("whatsapp", Draft("Neu: Rabatt."))
    [message] = get_platform("whatsapp").initiate(rendered, Reach("template", template="offer_1"), "de")
    assert message.payload == {"messaging_product": "whatsapp", "type": "template", "template": {"name": "offer_1", "language": {"code": "de"}}}
    assert message.text == "Neu: Rabatt."  # kept for the record
    assert get_platform("whatsapp").initiate(rendered, Reach.text(), "de") == rendered


def test_messenger_marks_a_campaign_message_as_a_proactive_update():
    rendered = render("messenger", Draft("Neu: Rabatt."))
    assert rendered[0].payload["messaging_type"] == "RESPONSE"
    assert [m.payload["messaging_type"] for m in get_platform("messenger").initiate(rendered, Reach.text(), "de")] == ["UPDATE"]


def graph_error(code: int) -> str:
    return "HTTP 400: " + json.dumps({"error": {"message": f"(#{code}) ...", "type": "OAuthException", "code": code}})


@pytest.mark.parametrize(
    ("name", "status", "error", "scope"),
    [
        ("whatsapp", 400, graph_error(130429), "sender"),
        ("whatsapp", 400, graph_error(80007), "sender"),
        ("whatsapp", 400, graph_error(131056), "recipient"),
        ("whatsapp", 429, "HTTP 429: ", "sender"),
        ("whatsapp", 400, graph_error(131026), None),  # undeliverable: not a rate limit
        ("messenger", 400, graph_error(613), "sender"),
        ("messenger", 400, graph_error(100), None),
        ("telegram", 429, 'HTTP 429: {"ok":false,"error_code":429,"parameters":{"retry_after":3}}', "sender"),
        ("telegram", 400, 'HTTP 400: {"ok":false,"error_code":400,"description":"Bad Request: chat not found"}', None),
        ("sms", 429, "", "sender"),
    ],
)
def test_each_platform_says_which_rejections_mean_too_fast(name, status, error, scope):
    assert get_platform(name).throttle(status, error) == scope


def test_error_codes_are_read_from_graph_and_telegram_bodies():
    assert error_codes(graph_error(130429)) == {130429}
    assert error_codes('{"ok":false,"error_code":429}') == {429}
    assert error_codes("HTTP 502: <html>") == set()


def test_the_sender_of_a_call_is_the_business_number_page_or_bot():
    assert get_platform("whatsapp").sender(Outgoing("whatsapp", "PNID1/messages", {})) == "PNID1"
    assert get_platform("messenger").sender(Outgoing("messenger", "me/messages", {})) == "page"
    assert get_platform("telegram").sender(Outgoing("telegram", "sendMessage", {})) == "bot"
