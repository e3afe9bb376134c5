"""What travels between a platform and the webhook: inbound events and send-API calls."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal[
    "text",  # a typed message
    "quick_reply",  # a tapped quick reply, reply button or list row
    "postback",  # a Messenger button postback
    "callback_query",  # a tapped Telegram inline-keyboard button
    "status",  # a WhatsApp delivery status of a message the business sent
    "handover_pass",  # the conversation came back to the bot (Messenger pass_thread_control, Chatwoot resolved)
    "handover_take",  # a person took the conversation (Messenger take_thread_control, Chatwoot open)
    "handover_request",  # Messenger: another app asks this one for thread control
    "standby",  # a message seen while a person has the conversation
    "agent_message",  # botkit's own: a person's message to send (agent API, `botkit handovers reply`)
    "handover_timeout",  # botkit's own: nobody took a waiting handover in time; tell the user
    "other",  # anything else: acknowledged and ignored
]

ANSWERED_KINDS: frozenset[str] = frozenset({"text", "quick_reply", "postback", "callback_query"})
"""Kinds the bot replies to."""

HANDOVER_KINDS: frozenset[str] = frozenset({"handover_pass", "handover_take", "handover_request", "standby"})
"""Kinds that change who has the conversation (and record it), without a bot answer."""

PERSON_KINDS: frozenset[str] = frozenset({"agent_message", "handover_timeout"})
"""Kinds botkit queues itself for the person's side; platforms never send them."""


@dataclass(frozen=True)
class Inbound:
    """One event from a platform webhook, reduced to what the bot needs."""

    platform: str
    kind: Kind
    user_id: str  # PSID, WhatsApp id (phone number), Telegram user id or Chatwoot contact id
    message_id: str  # the platform's id; with the platform, the idempotency key
    text: str = ""  # typed text, or the words of the chosen option
    payload: str = ""  # quick-reply payload, button id or callback data
    reply_to: str = ""  # where answers go: PSID, WhatsApp id, Telegram chat id, Chatwoot account/conversation
    account: str = ""  # the business side: Page id, WhatsApp phone_number_id or Chatwoot account id
    # Platform extras; "thread" names the conversation where a user has several (Chatwoot).
    details: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def conversation_id(self) -> str:
        return f"{self.platform}:{self.details.get('thread') or self.user_id}"

    @property
    def key(self) -> str:
        """Unique per delivered event across platforms: redeliveries repeat it."""
        return f"{self.platform}:{self.message_id}"


@dataclass(frozen=True)
class Outgoing:
    """One send-API call: `path` below the platform's API base, and its JSON body."""

    platform: str
    path: str
    body: dict[str, Any]
