"""The `Platform` protocol: everything that differs between messaging platforms, in one place."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from botkit.channels.profiles import ChannelProfile, HouseRules
from botkit.channels.render import Options
from botkit.errors import ConfigError
from botkit.platforms.events import Inbound, Outgoing
from botkit.platforms.outreach import RateLimit, Reach, Scope
from botkit.types import Message, Reply

if TYPE_CHECKING:  # the webhook's settings need the `server` extra; platforms must not
    from botkit.webhook.settings import WebhookSettings


@dataclass(frozen=True)
class Look:
    """The colours of a platform's chat, for the workbench simulator (an approximation, not the app)."""

    background: str
    bot: str
    bot_text: str
    user: str
    user_text: str
    button: str
    button_text: str
    stacked_buttons: bool = False  # buttons one under another (WhatsApp, Telegram), not side by side


@dataclass(frozen=True)
class Choices:
    """A built message's tappable options, read back from its payload (the simulator shows and taps them)."""

    items: tuple[tuple[str, str], ...] = ()  # (shown title, what the platform sends back when it is tapped)
    menu: str | None = None  # the label of the button that opens them, when they sit behind one (a list)


class Platform(Protocol):
    """One messaging platform: its messages' look, its webhook, and its send API.

    `render` builds messages through `build`; the webhook serves a platform whose `needs`
    (WebhookSettings fields) are all set, checks requests with `verify`, reads them with
    `parse`, and turns the bot's replies into send-API calls with `calls`, sent to
    `address`.
    """

    name: str
    display_name: str  # as people write it: in consent texts ("hier im Chat (WhatsApp)") and the simulator
    look: Look  # its chat's colours in the workbench simulator
    needs: tuple[str, ...]  # WebhookSettings fields that must all be set to serve its webhook; () = no webhook
    auth_header: str  # the request header whose absence answers 401 (403 when it is wrong)
    handshake: bool  # answers Meta's GET subscription handshake (hub.challenge)
    speaks_in_standby: bool  # may send while a person has the conversation (a STOP confirmation)
    body_schema: dict[str, Any]  # the JSON envelope, for the OpenAPI schema

    def build(self, profile: ChannelProfile, rules: HouseRules, bubbles: list[str], options: Options, image: str | None) -> list[Message]:
        """Wrap rendered bubbles (in the profile's markup, within its limits) into send-API bodies."""
        ...

    def choices(self, message: Message) -> Choices:
        """The options of a message `build` made, as the user sees and taps them."""
        ...

    def verify(self, headers: Mapping[str, str], body: bytes, settings: WebhookSettings, now: float) -> None:
        """Check a request's authenticity; raises `SignatureError`."""
        ...

    def parse(self, body: bytes, headers: Mapping[str, str]) -> list[Inbound]:
        """Read a webhook body (with its request headers); raises `PayloadError` for a wrong envelope."""
        ...

    def channel(self, event: Inbound) -> str:
        """The channel profile the bot's replies to `event` are rendered with."""
        ...

    def messages(self, event: Inbound, messages: Sequence[Message], settings: WebhookSettings) -> list[Outgoing]:
        """The send-API calls that deliver `messages` (rendered for `channel(event)`) to `event`'s conversation."""
        ...

    def calls(self, event: Inbound, reply: Reply, settings: WebhookSettings) -> list[Outgoing]:
        """The send-API calls of the bot's reply to `event`: its messages, plus what its handover needs."""
        ...

    def yield_control(self, event: Inbound, settings: WebhookSettings) -> list[Outgoing]:
        """The calls that give the conversation to the app that asked for it (`handover_request`)."""
        ...

    def address(self, request: Outgoing, settings: WebhookSettings) -> tuple[str, dict[str, str]]:
        """The URL and headers (credentials) of a send-API call."""
        ...

    # Business-initiated messages (campaigns): reachability, templates, rate limits --------

    rate_limits: tuple[RateLimit, ...]  # documented send rates, cited (botkit.platforms.outreach)

    def reach(self, last_user_at: float | None, now: float, template: str | None) -> Reach:
        """Whether and how a message the user did not ask for can reach them now (`template`: an approved one)."""
        ...

    def person_reach(self, last_user_at: float | None, now: float) -> Reach:
        """Whether a person's message after a handover (`agent_message`) can reach the user now, or why not."""
        ...

    def initiate(self, messages: Sequence[Message], reach: Reach, lang: str) -> list[Message]:
        """The messages of a business-initiated send: the rendered ones, or what the platform needs instead."""
        ...

    def throttle(self, status: int | None, error: str) -> Scope | None:
        """Whether a rejected send was "too fast", and for whom (sender or recipient); None for other errors."""
        ...

    def sender(self, request: Outgoing) -> str:
        """The business sender a send-API call goes out from (its rate limits are per sender)."""
        ...


class WithoutWebhook:
    """For platforms botkit renders for but does not serve (SMS gateways, a web chat)."""

    name = ""
    needs: tuple[str, ...] = ()
    auth_header = ""
    handshake = False
    speaks_in_standby = False
    body_schema: dict[str, Any] = {}

    def choices(self, message: Message) -> Choices:
        return Choices()

    def _no_webhook(self) -> ConfigError:
        return ConfigError(f"{self.name} has no webhook in botkit; its messages are sent by the caller")

    def verify(self, headers: Mapping[str, str], body: bytes, settings: WebhookSettings, now: float) -> None:
        raise self._no_webhook()

    def parse(self, body: bytes, headers: Mapping[str, str]) -> list[Inbound]:
        raise self._no_webhook()

    def channel(self, event: Inbound) -> str:
        return self.name

    def messages(self, event: Inbound, messages: Sequence[Message], settings: WebhookSettings) -> list[Outgoing]:
        raise self._no_webhook()

    def calls(self, event: Inbound, reply: Reply, settings: WebhookSettings) -> list[Outgoing]:
        raise self._no_webhook()

    def yield_control(self, event: Inbound, settings: WebhookSettings) -> list[Outgoing]:
        raise self._no_webhook()

    def address(self, request: Outgoing, settings: WebhookSettings) -> tuple[str, dict[str, str]]:
        raise self._no_webhook()

    # Business-initiated messages (campaigns) -----------------------------------------------

    rate_limits: tuple[RateLimit, ...] = ()  # botkit does not send these itself

    def person_reach(self, last_user_at: float | None, now: float) -> Reach:
        return Reach.text()  # the caller's own channel decides

    def initiate(self, messages: Sequence[Message], reach: Reach, lang: str) -> list[Message]:
        return list(messages)

    def throttle(self, status: int | None, error: str) -> Scope | None:
        return "sender" if status == 429 else None

    def sender(self, request: Outgoing) -> str:
        return self.name
