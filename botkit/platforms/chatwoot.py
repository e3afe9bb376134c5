"""Chatwoot (the open-source helpdesk) as a platform: its Agent Bot answers first, the team takes over.

Chatwoot POSTs Agent Bot events to `/webhook/chatwoot`, signed with the bot's secret:
`X-Chatwoot-Signature: sha256=<hex HMAC-SHA256 over "{X-Chatwoot-Timestamp}.{raw body}">`.
The bot answers only conversations whose status is `pending` (the bot's); in `open` ones a
person has it, and the bot stays silent except for a withdrawal of consent (STOP). Replies
go through Chatwoot's Application API (`POST /api/v1/accounts/{account}/conversations/{id}/messages`
with the `api_access_token` header), rendered with the rules of the inbox's channel. A
handover adds a private note for the team and sets the conversation `open`; when the team
resolves it (or hands it back to `pending`), the next message is the bot's again.

Payload shapes follow Chatwoot's source: `Message#webhook_data` (id, content, message_type,
content_type, content_attributes, private, sender, inbox, conversation, account) and
`Conversations::EventDataPresenter#push_data` (id, status, channel, meta.sender, messages)
merged with the event name.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from botkit.channels.profiles import ChannelProfile, HouseRules
from botkit.channels.render import Options
from botkit.errors import ConfigError, PayloadError, SignatureError, StaleRequestError
from botkit.platforms.base import Choices, Look
from botkit.platforms.events import Inbound, Kind, Outgoing
from botkit.platforms.outreach import RateLimit, Reach, Scope
from botkit.platforms.payload import choice_text, ident, items, load, obj, text
from botkit.types import Message, Reply

if TYPE_CHECKING:
    from botkit.webhook.settings import WebhookSettings

SIGNATURE_HEADER = "x-chatwoot-signature"
TIMESTAMP_HEADER = "x-chatwoot-timestamp"
DELIVERY_HEADER = "x-chatwoot-delivery"
MAX_AGE_SECONDS = 300  # older (or further in the future) signed events are refused as replays

# The inbox's channel decides the rules replies are rendered with.
CHANNEL_PROFILES = {
    "Channel::Whatsapp": "whatsapp",
    "Channel::Telegram": "telegram",
    "Channel::WebWidget": "web",
    "Channel::Sms": "sms",
    "Channel::TwilioSms": "sms",
    "Channel::FacebookPage": "messenger",
}
DEFAULT_PROFILE = "web"  # Channel::Api, Channel::Email, Channel::Line, ...

# Profiles whose Chatwoot channel shows `input_select` options as buttons: the web widget
# natively, Telegram as an inline keyboard (Channel::Telegram#reply_markup). Elsewhere the
# options travel as numbered text, which the bot also understands.
_SELECT_PROFILES = frozenset({"web", "telegram"})

# Conversation statuses: "pending" is the bot's; "open" a person's.
_STATUS_KINDS: dict[str, Kind] = {"open": "handover_take", "resolved": "handover_pass", "pending": "handover_pass"}
_STATUS_EVENTS = {"conversation_status_changed": "", "conversation_opened": "open", "conversation_resolved": "resolved"}


def sign(timestamp: str, body: bytes, secret: str) -> str:
    """The `X-Chatwoot-Signature` value for `body` sent at `timestamp` (Unix seconds)."""
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def verify_chatwoot_signature(body: bytes, signature: str | None, timestamp: str | None, secret: str, now: float) -> None:
    """Check an Agent Bot request's signature (constant time) and its age.

    Raises:
        SignatureError: the signature is missing or does not match.
        StaleRequestError: the timestamp is missing, malformed, or more than 5 minutes off.
    """
    if not signature:
        raise SignatureError("missing X-Chatwoot-Signature header")
    stamp = (timestamp or "").strip()
    if not stamp.isdigit() or len(stamp) > 12:
        raise StaleRequestError("missing or malformed X-Chatwoot-Timestamp header (Unix seconds expected)")
    given = signature.strip().lower()
    if not given.isascii() or not hmac.compare_digest(sign(stamp, body, secret), given):
        raise SignatureError("X-Chatwoot-Signature does not match the timestamp and body")
    age = now - int(stamp)
    if abs(age) > MAX_AGE_SECONDS:
        raise StaleRequestError(f"X-Chatwoot-Timestamp is {age:.0f} s off; at most {MAX_AGE_SECONDS} s are accepted")


class Chatwoot:
    """Chatwoot's Agent Bot webhook and Application API."""

    name = "chatwoot"
    display_name = "Chatwoot"
    look = Look("#f6f7f9", "#ffffff", "#1f2937", "#1f93ff", "#ffffff", "#ffffff", "#1f93ff")
    needs: tuple[str, ...] = ("chatwoot_url", "chatwoot_token", "chatwoot_webhook_secret")
    auth_header = SIGNATURE_HEADER
    handshake = False
    speaks_in_standby = True  # the API posts to any conversation: a STOP is confirmed even while a person has it
    body_schema: dict[str, Any] = {
        "type": "object",
        "required": ["event"],
        "properties": {"event": {"type": "string"}, "id": {"type": "integer"}, "content": {"type": ["string", "null"]}},
    }

    def build(self, profile: ChannelProfile, rules: HouseRules, bubbles: list[str], options: Options, image: str | None) -> list[Message]:
        raise ConfigError("chatwoot renders with its inbox's channel profile (whatsapp, telegram, web, sms, ...)")

    def choices(self, message: Message) -> Choices:
        return Choices()  # builds none: its inbox's channel platform builds (and reads back) the messages

    def verify(self, headers: Mapping[str, str], body: bytes, settings: WebhookSettings, now: float) -> None:
        secret = settings.chatwoot_webhook_secret.get_secret_value() if settings.chatwoot_webhook_secret else ""
        verify_chatwoot_signature(body, headers.get(SIGNATURE_HEADER), headers.get(TIMESTAMP_HEADER), secret, now)

    def parse(self, body: bytes, headers: Mapping[str, str]) -> list[Inbound]:
        """`message_created` (incoming), tapped options (`message_updated`) and status changes; others are "other"."""
        data = obj(load(body), "body")
        event = data.get("event")
        if not isinstance(event, str) or not event:
            raise PayloadError("'event' must be a non-empty string")
        delivery = headers.get(DELIVERY_HEADER, "")
        if event == "message_created":
            return [_message(data)]
        if event == "message_updated":
            return [_choice(data)]
        if event in _STATUS_EVENTS:
            return [_status(data, _STATUS_EVENTS[event], delivery)]
        return [Inbound("chatwoot", "other", "", f"other:{event}:{delivery or data.get('id', '')}")]

    def channel(self, event: Inbound) -> str:
        return str(event.details.get("channel") or DEFAULT_PROFILE)

    def messages(self, event: Inbound, messages: Sequence[Message], settings: WebhookSettings) -> list[Outgoing]:
        profile = self.channel(event)
        return [Outgoing("chatwoot", f"{_conversation_path(event)}/messages", _body(m, profile)) for m in messages]

    def calls(self, event: Inbound, reply: Reply, settings: WebhookSettings) -> list[Outgoing]:
        conversation = _conversation_path(event)
        calls = self.messages(event, reply.messages, settings)
        if reply.handover is not None:
            note = {"content": _note(event, reply), "message_type": "outgoing", "private": True}
            calls.append(Outgoing("chatwoot", f"{conversation}/messages", note))
            calls.append(Outgoing("chatwoot", f"{conversation}/toggle_status", {"status": "open"}))
        return calls

    def yield_control(self, event: Inbound, settings: WebhookSettings) -> list[Outgoing]:
        return []

    def address(self, request: Outgoing, settings: WebhookSettings) -> tuple[str, dict[str, str]]:
        token = settings.chatwoot_token.get_secret_value() if settings.chatwoot_token else ""
        return f"{(settings.chatwoot_url or '').rstrip('/')}/{request.path}", {"api_access_token": token}

    # Business-initiated messages (campaigns) -----------------------------------------------

    rate_limits: tuple[RateLimit, ...] = ()

    def reach(self, last_user_at: float | None, now: float, template: str | None) -> Reach:
        return Reach.not_now("unreachable", "botkit answers Chatwoot conversations but does not start them; send on the user's own channel")

    def person_reach(self, last_user_at: float | None, now: float) -> Reach:
        return Reach.text()  # Chatwoot applies the rules of the channel behind the inbox

    def initiate(self, messages: Sequence[Message], reach: Reach, lang: str) -> list[Message]:
        return list(messages)

    def throttle(self, status: int | None, error: str) -> Scope | None:
        return "sender" if status == 429 else None

    def sender(self, request: Outgoing) -> str:
        return request.path.split("/conversations/", 1)[0]  # the account


def _conversation_path(event: Inbound) -> str:
    return f"api/v1/accounts/{event.account}/conversations/{event.details.get('thread', '')}"


def _conversation(data: object, where: str) -> tuple[dict[str, Any], str, str]:
    """The conversation object, its id and the contact's id (from `meta.sender`, if given)."""
    conversation = obj(data, where)
    thread = ident(conversation.get("id"), f"{where}.id")
    meta = conversation.get("meta")
    sender = meta.get("sender") if isinstance(meta, dict) else None
    contact = ident(sender.get("id"), f"{where}.meta.sender.id") if isinstance(sender, dict) and sender.get("id") is not None else ""
    return conversation, thread, contact


def _details(conversation: dict[str, Any], thread: str) -> dict[str, Any]:
    channel = conversation.get("channel")
    profile = CHANNEL_PROFILES.get(channel, DEFAULT_PROFILE) if isinstance(channel, str) else DEFAULT_PROFILE
    return {"thread": thread, "channel": profile, "status": conversation.get("status")}


def _message(data: dict[str, Any]) -> Inbound:
    mid = f"message:{ident(data.get('id'), 'id')}"
    private = data.get("private") is True
    sender = data.get("sender")
    from_contact = isinstance(sender, dict) and sender.get("type", "contact") == "contact"
    if data.get("message_type") not in ("incoming", 0) or private or not from_contact:
        return Inbound("chatwoot", "other", "", mid)  # the bot's own, an agent's, or a private note
    conversation, thread, contact = _conversation(data.get("conversation"), "conversation")
    user = contact or ident(obj(sender, "sender").get("id"), "sender.id")
    account = ident(obj(data.get("account"), "account").get("id"), "account.id")
    words = text(data.get("content"), "content")
    # Only a pending conversation is the bot's; in any other a person has it.
    kind: Kind = ("text" if conversation.get("status") == "pending" else "standby") if words.strip() else "other"
    return Inbound("chatwoot", kind, user, mid, words, "", f"{account}/{thread}", account, _details(conversation, thread))


def _choice(data: dict[str, Any]) -> Inbound:
    """A tapped `input_select` option: Chatwoot updates the bot's message with `submitted_values`."""
    mid = ident(data.get("id"), "id")
    attributes = data.get("content_attributes")
    submitted = attributes.get("submitted_values") if isinstance(attributes, dict) else None
    if data.get("content_type") != "input_select" or not isinstance(submitted, list) or not submitted:
        return Inbound("chatwoot", "other", "", f"updated:{mid}")
    choice = obj(items(submitted, "content_attributes.submitted_values")[0], "content_attributes.submitted_values[0]")
    title = text(choice.get("title"), "submitted_values[0].title")
    value = text(choice.get("value"), "submitted_values[0].value")
    conversation, thread, contact = _conversation(data.get("conversation"), "conversation")
    if not contact:
        raise PayloadError("conversation.meta.sender.id is missing: whose choice is it?")
    account = ident(obj(data.get("account"), "account").get("id"), "account.id")
    kind: Kind = "quick_reply" if conversation.get("status") == "pending" else "standby"
    words = choice_text(title, value)
    return Inbound("chatwoot", kind, contact, f"choice:{mid}", words, value, f"{account}/{thread}", account, _details(conversation, thread))


def _status(data: dict[str, Any], implied: str, delivery: str) -> Inbound:
    conversation, thread, contact = _conversation(data, "body")
    status = implied or text(data.get("status"), "status")
    kind = _STATUS_KINDS.get(status, "other")
    if kind != "other" and not contact:
        raise PayloadError("meta.sender.id is missing: whose conversation is it?")
    # A status change has no id of its own: the delivery id, else the change's time.
    stamp = delivery or str(data.get("updated_at") or data.get("timestamp") or "")
    return Inbound("chatwoot", kind, contact, f"status:{thread}:{status}:{stamp}", details=_details(conversation, thread))


def _body(message: Message, profile: str) -> dict[str, Any]:
    """A Chatwoot outgoing message: the text (Chatwoot converts Markdown per channel), options as input_select."""
    content = message.text
    if message.image and message.image not in content:
        content = f"{content}\n{message.image}".strip()
    body: dict[str, Any] = {"content": content, "message_type": "outgoing", "private": False}
    if not message.quick_replies:
        return body
    if profile in _SELECT_PROFILES:
        ids = _option_ids(message)
        body["content_type"] = "input_select"
        body["content_attributes"] = {"items": [{"title": t, "value": v} for t, v in zip(message.quick_replies, ids)]}
        return body
    numbered = "\n".join(f"{n}. {title}" for n, title in enumerate(message.quick_replies, start=1))
    body["content"] = f"{content}\n\n{numbered}".strip()
    return body


def _option_ids(message: Message) -> list[str]:
    """The payload behind each shown option (the fuller title), as the profile's renderer set it."""
    payload = message.payload
    if isinstance(payload.get("quick_replies"), list):  # web
        return [str(q.get("payload", q.get("title", ""))) for q in payload["quick_replies"]]
    keyboard = payload.get("reply_markup", {}).get("inline_keyboard", [])  # telegram
    ids = [str(row[0].get("callback_data", "")) for row in keyboard if row]
    return ids if len(ids) == len(message.quick_replies) else list(message.quick_replies)


def _note(event: Inbound, reply: Reply) -> str:
    """A private note for the team: why, how sure, which entries, and the question in one line."""
    handover = reply.handover
    details = handover.details if handover is not None else {}
    confidence = details.get("confidence", reply.confidence)
    hits = ", ".join(f"{h.get('entry')} ({h.get('score')})" for h in details.get("top_hits", []) if isinstance(h, dict))
    question = " ".join(event.text.split())
    turns = len(handover.transcript) if handover is not None else 0
    lines = [
        f"botkit handed this conversation over: {handover.reason if handover else reply.reason}",
        f"Confidence: {confidence:.2f}" + (f" (threshold {details['threshold']})" if "threshold" in details else ""),
        f"Cited entries: {', '.join(reply.entries) or 'none'}",
        f"Top hits: {hits or 'none'}",
        f"Summary: the contact asked \u201c{question[:200]}\u201d ({turns} turns so far); please answer here.",
    ]
    return "\n".join(lines)
