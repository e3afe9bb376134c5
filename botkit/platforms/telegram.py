"""Telegram Bot API: MarkdownV2, inline keyboards, `/bot{token}/{method}`, the secret-token header."""

from __future__ import annotations

import hmac
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from botkit.channels.profiles import ChannelProfile, HouseRules
from botkit.channels.render import Options
from botkit.errors import SignatureError
from botkit.platforms.base import Choices, Look
from botkit.platforms.events import Inbound, Kind, Outgoing
from botkit.platforms.outreach import RateLimit, Reach, Scope
from botkit.platforms.payload import choice_text, ident, load, obj, text
from botkit.types import Message, Reply

if TYPE_CHECKING:
    from botkit.webhook.settings import WebhookSettings

SECRET_HEADER = "x-telegram-bot-api-secret-token"


def verify_telegram_token(header: str | None, secret: str) -> None:
    """Check Telegram's `X-Telegram-Bot-Api-Secret-Token` header (set with `setWebhook(secret_token=...)`).

    Raises:
        SignatureError: the header is missing or differs from the configured token.
    """
    if not header:
        raise SignatureError("missing X-Telegram-Bot-Api-Secret-Token header")
    if not header.isascii() or not hmac.compare_digest(header.encode(), secret.encode()):
        raise SignatureError("X-Telegram-Bot-Api-Secret-Token does not match")


# Business-initiated messages (campaigns): documented send rates ------------------------
RATE_LIMITS = (
    RateLimit(
        "sender",
        30.0,
        "core.telegram.org/bots/faq, quoted by grammy.dev/advanced/flood and the python-telegram-bot wiki 'Avoiding flood limits' (read 2026-11)",
        "secondary",
        "bulk notifications: 'not more than 30 messages per second or so'; spread large ones over 8-12 hours",
    ),
    RateLimit(
        "recipient",
        1.0,
        "core.telegram.org/bots/faq, quoted by grammy.dev/advanced/flood (read 2026-11)",
        "secondary",
        "'avoid sending more than one message per second' in one chat; short bursts tolerated",
    ),
)


class Telegram:
    """The Telegram Bot API: one `Update` per webhook request."""

    name = "telegram"
    display_name = "Telegram"
    look = Look("#d5e4c4", "#ffffff", "#000000", "#effdde", "#000000", "#b7c9a5", "#ffffff", stacked_buttons=True)
    needs: tuple[str, ...] = ("telegram_bot_token", "telegram_secret_token")
    auth_header = SECRET_HEADER
    handshake = False
    speaks_in_standby = True
    body_schema: dict[str, Any] = {
        "type": "object",
        "required": ["update_id"],
        "properties": {
            "update_id": {"type": "integer"},
            "message": {"type": "object"},
            "edited_message": {"type": "object"},
            "callback_query": {"type": "object"},
        },
    }

    def build(self, profile: ChannelProfile, rules: HouseRules, bubbles: list[str], options: Options, image: str | None) -> list[Message]:
        keyboard = {"inline_keyboard": [[{"text": title, "callback_data": rid}] for rid, title in zip(options.ids, options.shown)]}
        buttons = options.mode == "buttons"
        out: list[Message] = []
        # "method" lets the body double as a webhook reply; callers posting to
        # /bot<token>/<method> read it from there.
        if image:
            payload: dict[str, Any] = {"method": "sendPhoto", "photo": image}
            caption = ""
            if bubbles:
                caption = bubbles.pop(0)
                payload.update(caption=caption, parse_mode="MarkdownV2")
            last = not bubbles and buttons
            if last:
                payload["reply_markup"] = keyboard
            out.append(Message("telegram", caption, options.shown if last else (), image, payload))
        for k, bubble in enumerate(bubbles):
            payload = {"method": "sendMessage", "text": bubble, "parse_mode": "MarkdownV2"}
            last = k == len(bubbles) - 1 and buttons
            if last:
                payload["reply_markup"] = keyboard
            out.append(Message("telegram", bubble, options.shown if last else (), None, payload))
        return out

    def choices(self, message: Message) -> Choices:
        rows = message.payload.get("reply_markup", {}).get("inline_keyboard", [])
        return Choices(tuple((b["text"], b["callback_data"]) for row in rows for b in row))

    def verify(self, headers: Mapping[str, str], body: bytes, settings: WebhookSettings, now: float) -> None:
        secret = settings.telegram_secret_token
        verify_telegram_token(headers.get(SECRET_HEADER), secret.get_secret_value() if secret else "")

    def parse(self, body: bytes, headers: Mapping[str, str]) -> list[Inbound]:
        """Messages, edited messages and callback queries of one `Update`; other updates are ignored."""
        update = obj(load(body), "body")
        update_id = ident(update.get("update_id"), "update_id")
        for field in ("message", "edited_message"):
            # An edit carries the whole new text: answered (and so checked for STOP) like a new message.
            if field in update:
                return [_message(obj(update[field], field), update_id, field)]
        if "callback_query" in update:
            return [_callback(obj(update["callback_query"], "callback_query"), update_id)]
        # channel_post, my_chat_member, ...: acknowledged, not answered.
        return [Inbound("telegram", "other", "", update_id)]

    def channel(self, event: Inbound) -> str:
        return self.name

    def messages(self, event: Inbound, messages: Sequence[Message], settings: WebhookSettings) -> list[Outgoing]:
        chat = event.reply_to
        chat_id: int | str = int(chat) if chat.lstrip("-").isdigit() else chat
        calls = []
        for m in messages:
            body = {k: v for k, v in m.payload.items() if k != "method"}
            calls.append(Outgoing("telegram", str(m.payload.get("method", "sendMessage")), {**body, "chat_id": chat_id}))
        return calls

    def calls(self, event: Inbound, reply: Reply, settings: WebhookSettings) -> list[Outgoing]:
        calls = self.messages(event, reply.messages, settings)
        if event.kind == "callback_query":  # stops the spinner on the tapped button
            calls.insert(0, Outgoing("telegram", "answerCallbackQuery", {"callback_query_id": event.details.get("callback_query_id", "")}))
        return calls

    def yield_control(self, event: Inbound, settings: WebhookSettings) -> list[Outgoing]:
        return []

    def address(self, request: Outgoing, settings: WebhookSettings) -> tuple[str, dict[str, str]]:
        # The Bot API has no other way than the token in the path; the log scrubber hides it.
        token = settings.telegram_bot_token.get_secret_value() if settings.telegram_bot_token else ""
        return f"{settings.telegram_api_base.rstrip('/')}/bot{token}/{request.path}", {}

    # Business-initiated messages (campaigns): reachability, rate limits ---------------------

    rate_limits: tuple[RateLimit, ...] = RATE_LIMITS

    def reach(self, last_user_at: float | None, now: float, template: str | None) -> Reach:
        if last_user_at is None:
            return Reach.not_now("unreachable", "has never written to the bot, and a Telegram bot cannot start a chat")
        return Reach.text()

    def person_reach(self, last_user_at: float | None, now: float) -> Reach:
        return Reach.text()  # a bot may write to a chat that started with it at any time

    def initiate(self, messages: Sequence[Message], reach: Reach, lang: str) -> list[Message]:
        return list(messages)

    def throttle(self, status: int | None, error: str) -> Scope | None:
        # 429 with `parameters.retry_after` (Bot API ResponseParameters); it does not say which limit.
        return "sender" if status == 429 else None

    def sender(self, request: Outgoing) -> str:
        return "bot"  # the bot of the token


def _message(message: dict[str, Any], update_id: str, where: str) -> Inbound:
    sender = message.get("from")
    chat = obj(message.get("chat"), f"{where}.chat")
    chat_id = ident(chat.get("id"), f"{where}.chat.id")
    if not isinstance(sender, dict) or sender.get("is_bot"):
        return Inbound("telegram", "other", "", update_id, reply_to=chat_id)
    user = ident(sender.get("id"), f"{where}.from.id")
    words = text(message.get("text"), f"{where}.text")
    kind: Kind = "text" if words.strip() else "other"
    details = {"edited": True} if where == "edited_message" else {}
    return Inbound("telegram", kind, user, update_id, words, "", chat_id, details=details)


def _callback(query: dict[str, Any], update_id: str) -> Inbound:
    user = ident(obj(query.get("from"), "callback_query.from").get("id"), "callback_query.from.id")
    data = text(query.get("data"), "callback_query.data")
    message = query.get("message")
    chat_id, label = user, ""
    if isinstance(message, dict):
        chat = message.get("chat")
        if isinstance(chat, dict) and chat.get("id") is not None:
            chat_id = ident(chat["id"], "callback_query.message.chat.id")
        label = _button_label(message.get("reply_markup"), data)
    query_id = ident(query.get("id"), "callback_query.id")
    kind: Kind = "callback_query" if (label or data).strip() else "other"
    return Inbound("telegram", kind, user, update_id, choice_text(label, data), data, chat_id, details={"callback_query_id": query_id})


def _button_label(markup: Any, data: str) -> str:
    """The visible text of the inline-keyboard button whose callback data was sent."""
    rows = markup.get("inline_keyboard") if isinstance(markup, dict) else None
    for row in rows if isinstance(rows, list) else []:
        for button in row if isinstance(row, list) else []:
            if isinstance(button, dict) and button.get("callback_data") == data and isinstance(label := button.get("text"), str):
                return label
    return ""
