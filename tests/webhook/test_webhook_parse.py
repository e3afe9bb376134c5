"""Parsing real webhook bodies of the three platforms into `Inbound` events."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from botkit.errors import PayloadError
from botkit.webhook.parse import parse
from tests.webhook.support import fixture_bodies, messenger_body, payloads_present, require_payloads, telegram_body, whatsapp_body

# What each shared payload must parse into: (kind, user id, text) per event.
EXPECTED = {
    "messenger": {
        "RECONSTRUCTED_quick_reply_message": [("quick_reply", "200000000000002", "Red")],
        "botbuilder_handover_pass_thread_control": [("handover_pass", "fakeId", "")],
        "botbuilder_handover_request_thread_control": [("handover_request", "fakeId", "")],
        "botbuilder_handover_take_thread_control": [("handover_take", "fakeId", "")],
        "botbuilder_postback_with_referral": [("postback", "0", "title")],
        "botbuilder_referral": [("other", "0", "")],
        "botbuilder_standby_and_message": [("text", "0", "text"), ("other", "user1", ""), ("other", "user2", "")],
        "botbuilder_text_message": [("text", "0", "text")],
        "botbuilder_text_message_signed": [("text", "123123123", "asd")],
    },
    "telegram": {
        "RECONSTRUCTED_callback_query_with_message": [("callback_query", "1111111", "Option B")],
        "docs_callback_query_inline_message": [("callback_query", "1111111", "Data from button callback")],
        "docs_edited_message": [("text", "1111111", "Edited text")],  # an edit is read (and checked for STOP) like a message
        "docs_message_text": [("text", "1111111", "/start")],
        "teloxide_private_text_message": [("text", "218485655", "hello there")],
        "teloxide_private_text_message_2": [("text", "408258968", "4")],
    },
}
WHATSAPP_KINDS = {
    "pywa_callback_button": "quick_reply",
    "pywa_callback_selection": "quick_reply",
    "pywa_message_status": "status",
    "pywa_text_message_signed": "text",
}
WHATSAPP_TEXTS = {"text", "reply", "forwarded", "forwarded_many_times", "referral"}


def _all_bodies() -> list[tuple[str, str, bytes]]:
    if not payloads_present():
        return []
    return [(p, name, body) for p in ("messenger", "whatsapp", "telegram") for name, body in fixture_bodies(p)]


@pytest.mark.parametrize(("platform", "name", "body"), _all_bodies(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_shared_payload_parses_into_the_expected_events(platform, name, body):
    events = parse(platform, body)
    assert events and all(e.platform == platform for e in events)
    if platform != "whatsapp":
        assert [(e.kind, e.user_id, e.text) for e in events] == EXPECTED[platform][name]
        return
    file, _, example = name.partition("/")
    if file == "pywa_message":
        expected = "text" if example in WHATSAPP_TEXTS else "other"
    else:
        expected = WHATSAPP_KINDS[file]
    assert [e.kind for e in events] == [expected]
    if expected != "status":
        assert events[0].conversation_id == f"whatsapp:{events[0].user_id}" and events[0].account


def test_payload_folder_is_covered_completely():
    root = require_payloads()
    names = {p.stem for p in root.glob("*/*.json") if not p.name.endswith(".signature.json")}
    assert names == set(EXPECTED["messenger"]) | set(EXPECTED["telegram"]) | set(WHATSAPP_KINDS) | {"pywa_message"}


def test_bom_and_crlf_bodies_parse():
    body = b"\xef\xbb\xbf" + messenger_body("u1", "m1", "Hallo").replace(b",", b",\r\n")
    assert [e.text for e in parse("messenger", body)] == ["Hallo"]


def test_whatsapp_status_keys_differ_per_state_and_from_messages():
    require_payloads()
    keys = {parse("whatsapp", body)[0].key for name, body in fixture_bodies("whatsapp") if name.startswith("pywa_message_status/")}
    assert "whatsapp:wamid.xyzxyz" not in keys
    assert {"whatsapp:status:wamid.xyzxyz:sent", "whatsapp:status:wamid.xyzxyz:read"} <= keys


def test_quick_reply_text_is_the_full_title_carried_in_the_payload():
    shown, payload = "Wie melde ich meinen…", "Wie melde ich meinen Zählerstand?"
    event = parse("messenger", messenger_body("u1", "m1", shown, quick_reply=payload))[0]
    assert (event.kind, event.text, event.payload) == ("quick_reply", payload, payload)
    opaque = parse("messenger", messenger_body("u1", "m2", "Red", quick_reply="PICK_RED"))[0]
    assert opaque.text == "Red"


def test_whatsapp_button_reply_and_telegram_callback_use_the_option_words():
    button = parse("whatsapp", whatsapp_body("4915100000001", "wamid.b1", button=("Abschlagshöhe ändern", "Abschlagshöhe…")))[0]
    assert (button.kind, button.text) == ("quick_reply", "Abschlagshöhe ändern")
    update = {
        "update_id": 5,
        "callback_query": {
            "id": "cq1",
            "from": {"id": 7},
            "data": "Kundenportal",
            "message": {
                "message_id": 3,
                "chat": {"id": -100},
                "reply_markup": {"inline_keyboard": [[{"text": "Kundenportal", "callback_data": "Kundenportal"}]]},
            },
        },
    }
    event = parse("telegram", json.dumps(update).encode())[0]
    assert (event.kind, event.text, event.reply_to, event.details["callback_query_id"]) == ("callback_query", "Kundenportal", "-100", "cq1")


def test_echoes_and_bot_senders_are_ignored():
    echo = json.loads(messenger_body("PAGE1", "m9", "our own reply"))
    echo["entry"][0]["messaging"][0]["message"]["is_echo"] = True
    assert parse("messenger", json.dumps(echo).encode())[0].kind == "other"
    from_bot = json.loads(telegram_body(9, 9, "hi"))
    from_bot["message"]["from"]["is_bot"] = True
    assert parse("telegram", json.dumps(from_bot).encode())[0].kind == "other"


@pytest.mark.parametrize(
    ("platform", "body", "reason"),
    [
        ("messenger", b"", "not JSON"),
        ("messenger", b"\xff\xfe{}", "not UTF-8"),
        ("messenger", b"[]", "must be an object"),
        ("messenger", b'{"object": "whatsapp_business_account", "entry": []}', "'object' must be 'page'"),
        ("messenger", b'{"object": "page", "entry": {}}', "'entry' must be a list"),
        ("messenger", b'{"object": "page", "entry": [{"messaging": [{"sender": {"id": "1"}, "message": {"text": "x"}}]}]}', "mid"),
        ("messenger", b'{"object": "page", "entry": [{"messaging": [{"message": {"mid": "m", "text": "x"}}]}]}', "sender.id"),
        ("whatsapp", b'{"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "messages", "value": {"messages": [{"id": "w"}]}}]}]}', "from"),
        (
            "whatsapp",
            b'{"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "messages", "value": {"messages": [{"from": "1", "id": "w", "type": "text", "text": {"body": 5}}]}}]}]}',
            "must be a string",
        ),
        ("telegram", b'{"message": {}}', "update_id"),
        ("telegram", b'{"update_id": 1, "message": {"chat": {"id": 1}, "from": {"id": 1}, "text": ["x"]}}', "must be a string"),
        ("telegram", b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        ("sms", b"{}", "unknown platform"),
    ],
)
def test_malformed_bodies_raise_payload_error_with_a_reason(platform, body, reason):
    with pytest.raises(PayloadError, match=reason):
        parse(platform, body)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
    | st.sampled_from(["page", "whatsapp_business_account", "messages", "text", "interactive", "button_reply", "button"]),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "object",
                    "entry",
                    "messaging",
                    "changes",
                    "value",
                    "messages",
                    "statuses",
                    "message",
                    "sender",
                    "id",
                    "mid",
                    "text",
                    "from",
                    "type",
                    "update_id",
                    "callback_query",
                    "chat",
                    "data",
                    "field",
                    "quick_reply",
                    "interactive",
                ]
            )
            | st.text(max_size=8),
            inner,
            max_size=5,
        )
    ),
    max_leaves=25,
)


@given(platform=st.sampled_from(["messenger", "whatsapp", "telegram"]), value=json_values, raw=st.binary(max_size=64))
def test_parse_raises_only_payload_error_for_any_input(platform, value, raw):
    for body in (json.dumps(value).encode(), raw):
        try:
            events = parse(platform, body)
        except PayloadError:
            continue
        assert all(isinstance(e.user_id, str) and isinstance(e.text, str) for e in events)
