"""Messenger Platform: quick replies, `me/messages`, thread control (handover protocol), Meta's signature."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from botkit.channels.profiles import ChannelProfile, HouseRules
from botkit.channels.render import Options
from botkit.errors import PayloadError
from botkit.platforms import meta
from botkit.platforms.base import Choices, Look
from botkit.platforms.events import ANSWERED_KINDS, Inbound, Kind, Outgoing
from botkit.platforms.outreach import RateLimit, Reach, Scope, error_codes, within_window
from botkit.platforms.payload import choice_text, ident, items, load, obj, text
from botkit.types import Message, Reply

if TYPE_CHECKING:
    from botkit.webhook.settings import WebhookSettings

_CONTROL: dict[str, tuple[Kind, str]] = {
    "pass_thread_control": ("handover_pass", "new_owner_app_id"),
    "take_thread_control": ("handover_take", "previous_owner_app_id"),
    "request_thread_control": ("handover_request", "requested_owner_app_id"),
}


# Business-initiated messages (campaigns): documented send rates ------------------------
RATE_LIMITS = (
    RateLimit(
        "sender",
        300.0,
        "developers.facebook.com/documentation/business-messaging/messenger-platform/overview/rate-limiting (updated 2026-03-23, read 2026-11)",
        "official",
        "Send API calls per second per Facebook Page for text, links, reactions and stickers; 10 for audio or video; "
        "200 calls x engaged users per rolling 24 hours; no number for one thread ('may be rate limited')",
    ),
)
# A person may answer within 7 days of the user's last message with the HUMAN_AGENT tag
# (human-sent only; the app needs the Human Agent permission): platform-rules.md, [secondary].
HUMAN_AGENT_SECONDS = 7 * 24 * 3600

# Graph API throttling codes: 4 app, 17 user, 32 Page request limit, 613 "calls to this API
# have exceeded the rate limit" (secondary: Graph API error-handling guide as quoted by SDKs).
THROTTLE_CODES = frozenset({4, 17, 32, 613})


class Messenger:
    """The Messenger Platform (`object: "page"`), with the handover protocol's `standby` channel."""

    name = "messenger"
    display_name = "Messenger"
    look = Look("#ffffff", "#f0f0f0", "#050505", "#0084ff", "#ffffff", "#ffffff", "#0084ff")
    needs: tuple[str, ...] = ("messenger_app_secret", "verify_token", "messenger_page_token")
    auth_header = meta.SIGNATURE_HEADER
    handshake = True
    speaks_in_standby = False  # the app that does not own the thread cannot send
    body_schema = meta.BODY_SCHEMA

    def build(self, profile: ChannelProfile, rules: HouseRules, bubbles: list[str], options: Options, image: str | None) -> list[Message]:
        # "RESPONSE": a reply inside the 24-hour window; the sender may override it.
        out: list[Message] = []
        if image:
            attachment = {"type": "image", "payload": {"url": image, "is_reusable": True}}
            payload = {"messaging_type": "RESPONSE", "message": {"attachment": attachment}}
            out.append(Message("messenger", "", (), image, payload))
        for k, bubble in enumerate(bubbles):
            message: dict[str, Any] = {"text": bubble}
            shown: tuple[str, ...] = ()
            if k == len(bubbles) - 1 and options.mode == "buttons":
                shown = options.shown
                message["quick_replies"] = [{"content_type": "text", "title": title, "payload": rid} for rid, title in zip(options.ids, options.shown)]
            payload = {"messaging_type": "RESPONSE", "message": message}
            out.append(Message("messenger", bubble, shown, None, payload))
        return out

    def choices(self, message: Message) -> Choices:
        return Choices(tuple((q["title"], q["payload"]) for q in message.payload.get("message", {}).get("quick_replies", [])))

    def verify(self, headers: Mapping[str, str], body: bytes, settings: WebhookSettings, now: float) -> None:
        meta.verify_headers(headers, body, settings.messenger_app_secret)

    def parse(self, body: bytes, headers: Mapping[str, str]) -> list[Inbound]:
        """`messaging[]` and `standby[]` events of a `page` body."""
        events: list[Inbound] = []
        for i, entry in enumerate(meta.envelope(load(body), "page")):
            page = str(entry.get("id", ""))
            for j, item in enumerate(items(entry.get("messaging", []), f"entry[{i}].messaging")):
                where = f"entry[{i}].messaging[{j}]"
                events.append(_event(obj(item, where), page, where))
            for j, item in enumerate(items(entry.get("standby", []), f"entry[{i}].standby")):
                where = f"entry[{i}].standby[{j}]"
                event = _event(obj(item, where), page, where)
                # Seen while another app (a person) owns the thread: recorded and checked for a withdrawal.
                kind: Kind = "standby" if event.kind in ANSWERED_KINDS else "other"
                events.append(Inbound("messenger", kind, event.user_id, event.message_id, event.text, event.payload, event.reply_to, page))
        return events

    def channel(self, event: Inbound) -> str:
        return self.name

    def messages(self, event: Inbound, messages: Sequence[Message], settings: WebhookSettings) -> list[Outgoing]:
        tag = _human_agent_tag(event)
        return [Outgoing("messenger", "me/messages", {"recipient": {"id": event.reply_to}, **m.payload, **tag}) for m in messages]

    def calls(self, event: Inbound, reply: Reply, settings: WebhookSettings) -> list[Outgoing]:
        calls = self.messages(event, reply.messages, settings)
        if reply.handover is not None:
            calls.append(_pass_thread(event, settings.messenger_handover_app_id, reply.handover.reason))
        return calls

    def yield_control(self, event: Inbound, settings: WebhookSettings) -> list[Outgoing]:
        target = event.details.get("app_id") or settings.messenger_handover_app_id
        return [_pass_thread(event, target, "requested")]

    def address(self, request: Outgoing, settings: WebhookSettings) -> tuple[str, dict[str, str]]:
        return meta.graph_address(request, settings.messenger_page_token, settings)

    # Business-initiated messages (campaigns): reachability, message type, rate limits ------

    rate_limits: tuple[RateLimit, ...] = RATE_LIMITS

    def reach(self, last_user_at: float | None, now: float, template: str | None) -> Reach:
        # Promotional content only within the 24-hour standard messaging window: message tags
        # "can not be used to send promotional content" (platform-rules.md §2, official).
        if within_window(last_user_at, now):
            return Reach.text()
        return Reach.not_now("outside_window", "outside Messenger's 24-hour window; message tags may not carry promotional content")

    def person_reach(self, last_user_at: float | None, now: float) -> Reach:
        if last_user_at is not None and now - last_user_at <= HUMAN_AGENT_SECONDS:
            return Reach.text()  # tagged HUMAN_AGENT after the first 24 hours (`messages`)
        return Reach.not_now(
            "outside_window",
            "the user last wrote more than 7 days ago, and Messenger lets a person answer (HUMAN_AGENT tag) only within "
            "7 days of the user's last message; wait until they write again",
        )

    def initiate(self, messages: Sequence[Message], reach: Reach, lang: str) -> list[Message]:
        # UPDATE: sent proactively, not in response to a received message (RESPONSE is for replies).
        return [replace(m, payload={**m.payload, "messaging_type": "UPDATE"}) for m in messages]

    def throttle(self, status: int | None, error: str) -> Scope | None:
        return "sender" if status == 429 or error_codes(error) & THROTTLE_CODES else None

    def sender(self, request: Outgoing) -> str:
        return "page"  # me/messages: the Page of the access token


def _human_agent_tag(event: Inbound) -> dict[str, str]:
    """A person's message written more than 24 hours after the user's last one goes out tagged HUMAN_AGENT."""
    user_at, written_at = event.details.get("user_at"), event.details.get("written_at")
    if event.kind != "agent_message" or user_at is None or written_at is None or within_window(user_at, written_at):
        return {}
    return {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}


def _pass_thread(event: Inbound, app_id: str, reason: str) -> Outgoing:
    body = {"recipient": {"id": event.reply_to}, "target_app_id": app_id, "metadata": reason}
    return Outgoing("messenger", "me/pass_thread_control", body)


def _event(event: dict[str, Any], page: str, where: str) -> Inbound:
    sender = obj(event.get("sender", {}), f"{where}.sender").get("id")
    user = ident(sender, f"{where}.sender.id") if sender is not None else ""
    stamp = str(event.get("timestamp", ""))

    def make(kind: Kind, message_id: str, words: str = "", payload: str = "", **details: Any) -> Inbound:
        if not user and kind != "other":
            raise PayloadError(f"{where}.sender.id is missing")
        return Inbound("messenger", kind, user, message_id, words, payload, user, page, details)

    if "message" in event:
        message = obj(event["message"], f"{where}.message")
        mid = ident(message.get("mid"), f"{where}.message.mid")
        words = text(message.get("text"), f"{where}.message.text")
        if message.get("is_echo"):  # the Page's own outgoing message, echoed back
            return make("other", mid)
        if "quick_reply" in message:
            quick = obj(message["quick_reply"], f"{where}.message.quick_reply")
            payload = text(quick.get("payload"), f"{where}.message.quick_reply.payload")
            return make("quick_reply", mid, choice_text(words, payload), payload)
        return make("text", mid, words) if words.strip() else make("other", mid)
    if "postback" in event:
        postback = obj(event["postback"], f"{where}.postback")
        title = text(postback.get("title"), f"{where}.postback.title")
        payload = text(postback.get("payload"), f"{where}.postback.payload")
        mid = str(postback.get("mid") or f"postback:{user}:{stamp}")
        return make("postback", mid, choice_text(title, payload), payload)
    for name, (kind, app_field) in _CONTROL.items():
        if name in event:
            control = obj(event[name], f"{where}.{name}")
            app = control.get(app_field)
            metadata = control.get("metadata")
            return make(kind, f"{name}:{user}:{stamp}", "", "", app_id="" if app is None else str(app), metadata=metadata if isinstance(metadata, str) else "")
    return make("other", f"other:{user}:{stamp}")
