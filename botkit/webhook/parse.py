"""Webhook bodies of Messenger, WhatsApp Cloud API and Telegram into `Inbound` events.

Pure: bytes in, dataclasses out. The envelope is checked strictly (a wrong one raises
`PayloadError`, answered with 400); events inside it that botkit does not handle (media,
reactions, referrals, delivery receipts, future types) come back with kind "other" so the
webhook can acknowledge and ignore them instead of making the platform redeliver.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from botkit.errors import PayloadError

Platform = Literal["messenger", "whatsapp", "telegram"]
PLATFORMS: tuple[Platform, ...] = ("messenger", "whatsapp", "telegram")

Kind = Literal[
    "text",  # a typed message
    "quick_reply",  # a tapped quick reply, reply button or list row
    "postback",  # a Messenger button postback
    "callback_query",  # a tapped Telegram inline-keyboard button
    "status",  # a WhatsApp delivery status of a message the business sent
    "handover_pass",  # Messenger: thread control was passed to this app
    "handover_take",  # Messenger: another app took thread control from this one
    "handover_request",  # Messenger: another app asks this one for thread control
    "standby",  # Messenger: a message seen while another app owns the thread
    "agent_message",  # botkit's own: a person's message to send (agent API, `botkit handovers reply`)
    "handover_timeout",  # botkit's own: nobody took a waiting handover in time; tell the user
    "other",  # anything else: acknowledged and ignored
]

ANSWERED_KINDS: frozenset[str] = frozenset({"text", "quick_reply", "postback", "callback_query"})
"""Kinds the bot replies to."""

HANDOVER_KINDS: frozenset[str] = frozenset({"handover_pass", "handover_take", "handover_request", "standby"})
"""Kinds that change who has the conversation (and record it), without a bot reply."""

PERSON_KINDS: frozenset[str] = frozenset({"agent_message", "handover_timeout"})
"""Kinds botkit queues itself for the person's side; platforms never send them."""


@dataclass(frozen=True)
class Inbound:
    """One event from a platform webhook, reduced to what the bot needs."""

    platform: Platform
    kind: Kind
    user_id: str  # PSID, WhatsApp id (phone number) or Telegram user id
    message_id: str  # the platform's id; with the platform, the idempotency key
    text: str = ""  # typed text, or the words of the chosen option
    payload: str = ""  # quick-reply payload, button id or callback data
    reply_to: str = ""  # where answers go: PSID, WhatsApp id or Telegram chat id
    account: str = ""  # the business side: Page id or WhatsApp phone_number_id
    details: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def conversation_id(self) -> str:
        return f"{self.platform}:{self.user_id}"

    @property
    def key(self) -> str:
        """Unique per delivered event across platforms: redeliveries repeat it."""
        return f"{self.platform}:{self.message_id}"


def parse(platform: str, body: bytes) -> list[Inbound]:
    """Parse one webhook body of `platform` ("messenger", "whatsapp" or "telegram").

    Raises:
        PayloadError: not UTF-8 JSON, or not the platform's envelope.
    """
    parser = _PARSERS.get(platform)
    if parser is None:
        raise PayloadError(f"unknown platform {platform!r}; known: {', '.join(PLATFORMS)}")
    return parser(_load(body))


def _load(body: bytes) -> Any:
    # utf-8-sig: fixture files (not Meta) carry a BOM, which json.loads(str) rejects.
    try:
        return json.loads(body.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise PayloadError(f"body is not UTF-8 (byte {exc.start})") from exc
    except json.JSONDecodeError as exc:
        raise PayloadError(f"body is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from exc
    except RecursionError as exc:
        raise PayloadError("body is nested too deeply") from exc


def _obj(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise PayloadError(f"{where} must be an object")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise PayloadError(f"{where} must be a list")
    return value


def _id(value: Any, where: str) -> str:
    """An id that platforms send as a string (Meta) or a number (Telegram)."""
    if isinstance(value, bool) or not isinstance(value, (str, int)) or value == "":
        raise PayloadError(f"{where} must be a non-empty string or number")
    return str(value)


def _text(value: Any, where: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise PayloadError(f"{where} must be a string")
    return value


def _choice_text(title: str, payload: str) -> str:
    """The words of a chosen option: the title, or the payload when it is the fuller title.

    botkit's renderers put the whole option title (cut only to the byte limit) into the
    payload and may shorten the shown title with "…"; other payloads are opaque codes.
    """
    shown, data = title.strip(), payload.strip()
    if not shown or not data:
        return shown or data
    stem = shown.rstrip("…. ").casefold()
    return data if len(data) > len(stem) and data.casefold().startswith(stem) else shown


def _envelope(data: Any, expected: str) -> list[dict[str, Any]]:
    top = _obj(data, "body")
    if top.get("object") != expected:
        raise PayloadError(f"'object' must be {expected!r}, got {top.get('object')!r}")
    return [_obj(e, f"entry[{i}]") for i, e in enumerate(_list(top.get("entry"), "'entry'"))]


# Messenger ----------------------------------------------------------------------------

def parse_messenger(data: Any) -> list[Inbound]:
    """Messenger Platform `object: "page"` bodies: `messaging[]` and `standby[]` events."""
    events: list[Inbound] = []
    for i, entry in enumerate(_envelope(data, "page")):
        page = str(entry.get("id", ""))
        for j, item in enumerate(_list(entry.get("messaging", []), f"entry[{i}].messaging")):
            events.append(_messenger_event(_obj(item, f"entry[{i}].messaging[{j}]"), page, f"entry[{i}].messaging[{j}]"))
        for j, item in enumerate(_list(entry.get("standby", []), f"entry[{i}].standby")):
            event = _messenger_event(_obj(item, f"entry[{i}].standby[{j}]"), page, f"entry[{i}].standby[{j}]")
            # Seen while another app owns the thread: recorded, never answered.
            kind = "standby" if event.kind in ANSWERED_KINDS else "other"
            events.append(Inbound("messenger", kind, event.user_id, event.message_id, event.text, event.payload, event.reply_to, page))
    return events


def _messenger_event(event: dict[str, Any], page: str, where: str) -> Inbound:
    sender = _obj(event.get("sender", {}), f"{where}.sender").get("id")
    user = _id(sender, f"{where}.sender.id") if sender is not None else ""
    stamp = str(event.get("timestamp", ""))

    def make(kind: Kind, message_id: str, text: str = "", payload: str = "", **details: Any) -> Inbound:
        if not user and kind != "other":
            raise PayloadError(f"{where}.sender.id is missing")
        return Inbound("messenger", kind, user, message_id, text, payload, user, page, details)

    if "message" in event:
        message = _obj(event["message"], f"{where}.message")
        mid = _id(message.get("mid"), f"{where}.message.mid")
        text = _text(message.get("text"), f"{where}.message.text")
        if message.get("is_echo"):  # the Page's own outgoing message, echoed back
            return make("other", mid)
        if "quick_reply" in message:
            payload = _text(_obj(message["quick_reply"], f"{where}.message.quick_reply").get("payload"), f"{where}.message.quick_reply.payload")
            return make("quick_reply", mid, _choice_text(text, payload), payload)
        return make("text", mid, text) if text.strip() else make("other", mid)
    if "postback" in event:
        postback = _obj(event["postback"], f"{where}.postback")
        title = _text(postback.get("title"), f"{where}.postback.title")
        payload = _text(postback.get("payload"), f"{where}.postback.payload")
        mid = str(postback.get("mid") or f"postback:{user}:{stamp}")
        return make("postback", mid, _choice_text(title, payload), payload)
    handovers: dict[str, tuple[Kind, str]] = {
        "pass_thread_control": ("handover_pass", "new_owner_app_id"),
        "take_thread_control": ("handover_take", "previous_owner_app_id"),
        "request_thread_control": ("handover_request", "requested_owner_app_id"),
    }
    for name, (kind, app_field) in handovers.items():
        if name in event:
            control = _obj(event[name], f"{where}.{name}")
            app = control.get(app_field)
            metadata = control.get("metadata")
            return make(kind, f"{name}:{user}:{stamp}", "", "", app_id="" if app is None else str(app),
                        metadata=metadata if isinstance(metadata, str) else "")
    return make("other", f"other:{user}:{stamp}")


# WhatsApp -----------------------------------------------------------------------------

def parse_whatsapp(data: Any) -> list[Inbound]:
    """WhatsApp Cloud API `object: "whatsapp_business_account"` bodies: messages and statuses."""
    events: list[Inbound] = []
    for i, entry in enumerate(_envelope(data, "whatsapp_business_account")):
        for j, change in enumerate(_list(entry.get("changes", []), f"entry[{i}].changes")):
            where = f"entry[{i}].changes[{j}]"
            change = _obj(change, where)
            if change.get("field") != "messages":
                continue
            value = _obj(change.get("value"), f"{where}.value")
            metadata = value.get("metadata")
            account = str(metadata.get("phone_number_id", "")) if isinstance(metadata, dict) else ""
            for k, message in enumerate(_list(value.get("messages", []), f"{where}.value.messages")):
                events.append(_whatsapp_message(_obj(message, f"{where}.value.messages[{k}]"), account, f"{where}.value.messages[{k}]"))
            for k, status in enumerate(_list(value.get("statuses", []), f"{where}.value.statuses")):
                events.append(_whatsapp_status(_obj(status, f"{where}.value.statuses[{k}]"), account, f"{where}.value.statuses[{k}]"))
    return events


def _whatsapp_message(message: dict[str, Any], account: str, where: str) -> Inbound:
    user = _id(message.get("from"), f"{where}.from")
    mid = _id(message.get("id"), f"{where}.id")
    kind, text, payload = _whatsapp_content(message, where)
    return Inbound("whatsapp", kind, user, mid, text, payload, user, account)


def _whatsapp_content(message: dict[str, Any], where: str) -> tuple[Kind, str, str]:
    kind = message.get("type")
    if kind == "text":
        body = _text(_obj(message.get("text"), f"{where}.text").get("body"), f"{where}.text.body")
        return ("text", body, "") if body.strip() else ("other", "", "")
    if kind == "button":  # a template's quick-reply button
        button = _obj(message.get("button"), f"{where}.button")
        text = _text(button.get("text"), f"{where}.button.text")
        payload = _text(button.get("payload"), f"{where}.button.payload")
        return "quick_reply", _choice_text(text, payload), payload
    if kind == "interactive" and isinstance(message.get("interactive"), dict):
        interactive = message["interactive"]
        reply_type = interactive.get("type")
        if reply_type in ("button_reply", "list_reply"):
            reply = _obj(interactive.get(reply_type), f"{where}.interactive.{reply_type}")
            title = _text(reply.get("title"), f"{where}.interactive.{reply_type}.title")
            reply_id = _text(reply.get("id"), f"{where}.interactive.{reply_type}.id")
            return "quick_reply", _choice_text(title, reply_id), reply_id
    # Media, reactions, locations, orders, "unsupported" and interactive errors.
    return "other", "", ""


def _whatsapp_status(status: dict[str, Any], account: str, where: str) -> Inbound:
    state = _text(status.get("status"), f"{where}.status")
    recipient = status.get("recipient_id")
    user = _id(recipient, f"{where}.recipient_id") if recipient is not None else ""
    errors = status.get("errors")
    codes = [e.get("code") for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []
    # One outgoing message gets several statuses (sent, delivered, read): the key includes the state.
    mid = f"status:{_id(status.get('id'), f'{where}.id')}:{state}"
    return Inbound("whatsapp", "status", user, mid, state, "", user, account, {"error_codes": codes})


# Telegram -----------------------------------------------------------------------------

def parse_telegram(data: Any) -> list[Inbound]:
    """One Telegram Bot API `Update`: messages and callback queries; other updates are ignored."""
    update = _obj(data, "body")
    update_id = _id(update.get("update_id"), "update_id")
    if "message" in update:
        return [_telegram_message(_obj(update["message"], "message"), update_id)]
    if "callback_query" in update:
        return [_telegram_callback(_obj(update["callback_query"], "callback_query"), update_id)]
    # edited_message, channel_post, my_chat_member, ...: acknowledged, not answered.
    return [Inbound("telegram", "other", "", update_id)]


def _telegram_message(message: dict[str, Any], update_id: str) -> Inbound:
    sender = message.get("from")
    chat = _obj(message.get("chat"), "message.chat")
    chat_id = _id(chat.get("id"), "message.chat.id")
    if not isinstance(sender, dict) or sender.get("is_bot"):
        return Inbound("telegram", "other", "", update_id, reply_to=chat_id)
    user = _id(sender.get("id"), "message.from.id")
    text = _text(message.get("text"), "message.text")
    kind: Kind = "text" if text.strip() else "other"
    return Inbound("telegram", kind, user, update_id, text, "", chat_id)


def _telegram_callback(query: dict[str, Any], update_id: str) -> Inbound:
    user = _id(_obj(query.get("from"), "callback_query.from").get("id"), "callback_query.from.id")
    data = _text(query.get("data"), "callback_query.data")
    message = query.get("message")
    chat_id, label = user, ""
    if isinstance(message, dict):
        chat = message.get("chat")
        if isinstance(chat, dict) and chat.get("id") is not None:
            chat_id = _id(chat["id"], "callback_query.message.chat.id")
        label = _button_label(message.get("reply_markup"), data)
    query_id = _id(query.get("id"), "callback_query.id")
    kind: Kind = "callback_query" if (label or data).strip() else "other"
    return Inbound("telegram", kind, user, update_id, _choice_text(label, data), data, chat_id, details={"callback_query_id": query_id})


def _button_label(markup: Any, data: str) -> str:
    """The visible text of the inline-keyboard button whose callback data was sent."""
    rows = markup.get("inline_keyboard") if isinstance(markup, dict) else None
    for row in rows if isinstance(rows, list) else []:
        for button in row if isinstance(row, list) else []:
            if isinstance(button, dict) and button.get("callback_data") == data and isinstance(button.get("text"), str):
                return button["text"]
    return ""


_PARSERS: dict[str, Callable[[Any], list[Inbound]]] = {
    "messenger": parse_messenger,
    "whatsapp": parse_whatsapp,
    "telegram": parse_telegram,
}
