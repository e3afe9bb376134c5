"""WhatsApp Cloud API: interactive buttons and lists, `{phone_number_id}/messages`, Meta's signature."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from botkit.channels.markup import find_urls
from botkit.channels.profiles import ChannelProfile, HouseRules
from botkit.channels.render import Options
from botkit.channels.split import shorten
from botkit.errors import ConfigError
from botkit.platforms import meta
from botkit.platforms.base import Choices, Look
from botkit.platforms.events import Inbound, Kind, Outgoing
from botkit.platforms.outreach import RateLimit, Reach, Scope, error_codes, within_window
from botkit.platforms.payload import choice_text, ident, items, load, obj, text
from botkit.types import Message, Reply

if TYPE_CHECKING:
    from botkit.webhook.settings import WebhookSettings


# Business-initiated messages (campaigns): documented send rates ------------------------
RATE_LIMITS = (
    RateLimit(
        "sender",
        80.0,
        "developers.facebook.com/documentation/business-messaging/whatsapp/throughput (updated 2026-05-21, read 2026-11)",
        "official",
        "per registered business phone number, inbound and outbound together; 1,000 after Meta's automatic upgrade, "
        "20 for numbers shared with the WhatsApp Business app; above it error 130429",
    ),
    RateLimit(
        "recipient",
        1 / 6,
        "learn.turn.io 'Why am I seeing error code 131056' quoting Meta; dev.to/wapgrowai_org rate limits in practice (2026-11)",
        "secondary",
        "pair rate: 1 message every 6 seconds from one business number to one user (bursts tolerated); above it error 131056",
    ),
)
# Graph API error codes that mean "too fast": 130429 throughput (official, throughput page),
# 80007 WhatsApp Business Account rate limit and 4 app-level call limit (secondary: heltar.com,
# help.chakrahq.com "Throttling errors"), sent with HTTP 400 or 429.
THROTTLE_CODES = frozenset({4, 80007, 130429})
PAIR_CODES = frozenset({131056})  # (business, consumer) pair rate limit hit: wait for this user only


class WhatsApp:
    """The WhatsApp Cloud API (`object: "whatsapp_business_account"`)."""

    name = "whatsapp"
    display_name = "WhatsApp"
    look = Look("#efeae2", "#ffffff", "#111b21", "#d9fdd3", "#111b21", "#ffffff", "#008069", stacked_buttons=True)
    needs: tuple[str, ...] = ("whatsapp_app_secret", "verify_token", "whatsapp_token")
    auth_header = meta.SIGNATURE_HEADER
    handshake = True
    speaks_in_standby = True
    body_schema = meta.BODY_SCHEMA

    def build(self, profile: ChannelProfile, rules: HouseRules, bubbles: list[str], options: Options, image: str | None) -> list[Message]:
        out: list[Message] = []
        interactive = options.mode in ("buttons", "list")
        if image:
            # An interactive message cannot carry an image caption, so a lone bubble with
            # options leaves the image caption-less.
            if bubbles and not (len(bubbles) == 1 and interactive):
                caption = bubbles.pop(0)
                media = {"link": image, "caption": caption}
                out.append(Message("whatsapp", caption, (), image, _wa({"type": "image", "image": media})))
            else:
                out.append(Message("whatsapp", "", (), image, _wa({"type": "image", "image": {"link": image}})))
        for k, bubble in enumerate(bubbles):
            if k < len(bubbles) - 1 or not interactive:
                body = {"body": bubble, "preview_url": bool(find_urls(bubble))}
                out.append(Message("whatsapp", bubble, (), None, _wa({"type": "text", "text": body})))
                continue
            if options.mode == "buttons":
                action: dict[str, Any] = {
                    "buttons": [{"type": "reply", "reply": {"id": rid, "title": title}} for rid, title in zip(options.ids, options.shown)]
                }
                kind = "button"
            else:
                rows = []
                for rid, title, description in zip(options.ids, options.shown, options.descriptions):
                    row = {"id": rid, "title": title}
                    if description:
                        row["description"] = description
                    rows.append(row)
                label = shorten(" ".join(rules.list_label.split()), profile.max_list_button)
                action = {"button": label, "sections": [{"rows": rows}]}
                kind = "list"
            interactive_body = {"type": kind, "body": {"text": bubble}, "action": action}
            payload = {"type": "interactive", "interactive": interactive_body}
            out.append(Message("whatsapp", bubble, options.shown, None, _wa(payload)))
        return out

    def choices(self, message: Message) -> Choices:
        interactive = message.payload.get("interactive", {})
        action = interactive.get("action", {})
        if interactive.get("type") == "button":
            return Choices(tuple((b["reply"]["title"], b["reply"]["id"]) for b in action.get("buttons", [])))
        if interactive.get("type") == "list":
            rows = tuple((r["title"], r["id"]) for section in action.get("sections", []) for r in section.get("rows", []))
            return Choices(rows, menu=action.get("button", ""))
        return Choices()

    def verify(self, headers: Mapping[str, str], body: bytes, settings: WebhookSettings, now: float) -> None:
        meta.verify_headers(headers, body, settings.whatsapp_app_secret)

    def parse(self, body: bytes, headers: Mapping[str, str]) -> list[Inbound]:
        """Messages and statuses of a `whatsapp_business_account` body."""
        events: list[Inbound] = []
        for i, entry in enumerate(meta.envelope(load(body), "whatsapp_business_account")):
            for j, change in enumerate(items(entry.get("changes", []), f"entry[{i}].changes")):
                where = f"entry[{i}].changes[{j}]"
                change = obj(change, where)
                if change.get("field") != "messages":
                    continue
                value = obj(change.get("value"), f"{where}.value")
                metadata = value.get("metadata")
                account = str(metadata.get("phone_number_id", "")) if isinstance(metadata, dict) else ""
                for k, message in enumerate(items(value.get("messages", []), f"{where}.value.messages")):
                    events.append(_message(obj(message, f"{where}.value.messages[{k}]"), account, f"{where}.value.messages[{k}]"))
                for k, status in enumerate(items(value.get("statuses", []), f"{where}.value.statuses")):
                    events.append(_status(obj(status, f"{where}.value.statuses[{k}]"), account, f"{where}.value.statuses[{k}]"))
        return events

    def channel(self, event: Inbound) -> str:
        return self.name

    def messages(self, event: Inbound, messages: Sequence[Message], settings: WebhookSettings) -> list[Outgoing]:
        number = event.account or settings.whatsapp_phone_number_id
        if not number:
            raise ConfigError("the WhatsApp event names no phone_number_id: set BOTKIT_WHATSAPP_PHONE_NUMBER_ID")
        return [Outgoing("whatsapp", f"{number}/messages", {**m.payload, "recipient_type": "individual", "to": event.reply_to}) for m in messages]

    def calls(self, event: Inbound, reply: Reply, settings: WebhookSettings) -> list[Outgoing]:
        return self.messages(event, reply.messages, settings)

    def yield_control(self, event: Inbound, settings: WebhookSettings) -> list[Outgoing]:
        return []

    def address(self, request: Outgoing, settings: WebhookSettings) -> tuple[str, dict[str, str]]:
        return meta.graph_address(request, settings.whatsapp_token, settings)

    # Business-initiated messages (campaigns): reachability, template, rate limits ----------

    rate_limits: tuple[RateLimit, ...] = RATE_LIMITS

    def reach(self, last_user_at: float | None, now: float, template: str | None) -> Reach:
        # Free-form messages only within 24 hours of the user's last message; after that
        # only a pre-approved template (platform-rules.md §3).
        if within_window(last_user_at, now):
            return Reach.text()
        if template:
            return Reach("template", template=template)
        return Reach.not_now(
            "outside_window",
            "outside WhatsApp's 24-hour customer service window and no approved template given (whatsapp_template)",
        )

    def person_reach(self, last_user_at: float | None, now: float) -> Reach:
        # The customer service window applies to people too: free text only within 24 hours.
        if within_window(last_user_at, now):
            return Reach.text()
        return Reach.not_now(
            "outside_window",
            "the user last wrote more than 24 hours ago, and WhatsApp lets a business write freely only within 24 hours "
            "of the user's last message; wait until they write again, or reach them with an approved template",
        )

    def initiate(self, messages: Sequence[Message], reach: Reach, lang: str) -> list[Message]:
        if reach.mode != "template":
            return list(messages)
        # The template's approved wording is what WhatsApp shows; the text is kept for the record.
        payload = _wa({"type": "template", "template": {"name": reach.template, "language": {"code": lang}}})
        return [Message("whatsapp", "\n\n".join(m.text for m in messages), payload=payload)]

    def throttle(self, status: int | None, error: str) -> Scope | None:
        codes = error_codes(error)
        if codes & PAIR_CODES:
            return "recipient"
        return "sender" if status == 429 or codes & THROTTLE_CODES else None

    def sender(self, request: Outgoing) -> str:
        return request.path.split("/", 1)[0]  # {phone_number_id}/messages


def _wa(body: dict[str, Any]) -> dict[str, Any]:
    return {"messaging_product": "whatsapp", **body}


def _message(message: dict[str, Any], account: str, where: str) -> Inbound:
    user = ident(message.get("from"), f"{where}.from")
    mid = ident(message.get("id"), f"{where}.id")
    kind, words, payload = _content(message, where)
    return Inbound("whatsapp", kind, user, mid, words, payload, user, account)


def _content(message: dict[str, Any], where: str) -> tuple[Kind, str, str]:
    kind = message.get("type")
    if kind == "text":
        body = text(obj(message.get("text"), f"{where}.text").get("body"), f"{where}.text.body")
        return ("text", body, "") if body.strip() else ("other", "", "")
    if kind == "button":  # a template's quick-reply button
        button = obj(message.get("button"), f"{where}.button")
        title = text(button.get("text"), f"{where}.button.text")
        payload = text(button.get("payload"), f"{where}.button.payload")
        return "quick_reply", choice_text(title, payload), payload
    if kind == "interactive" and isinstance(message.get("interactive"), dict):
        interactive = message["interactive"]
        reply_type = interactive.get("type")
        if reply_type in ("button_reply", "list_reply"):
            reply = obj(interactive.get(reply_type), f"{where}.interactive.{reply_type}")
            title = text(reply.get("title"), f"{where}.interactive.{reply_type}.title")
            reply_id = text(reply.get("id"), f"{where}.interactive.{reply_type}.id")
            return "quick_reply", choice_text(title, reply_id), reply_id
    # Media, reactions, locations, orders, "unsupported" and interactive errors.
    return "other", "", ""


def _status(status: dict[str, Any], account: str, where: str) -> Inbound:
    state = text(status.get("status"), f"{where}.status")
    recipient = status.get("recipient_id")
    user = ident(recipient, f"{where}.recipient_id") if recipient is not None else ""
    errors = status.get("errors")
    codes = [e.get("code") for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []
    # One outgoing message gets several statuses (sent, delivered, read): the key includes the state.
    mid = f"status:{ident(status.get('id'), f'{where}.id')}:{state}"
    return Inbound("whatsapp", "status", user, mid, state, "", user, account, {"error_codes": codes})
