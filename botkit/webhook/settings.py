"""Webhook configuration from `BOTKIT_*` environment variables and a `.env` file."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

from dotenv import dotenv_values
from pydantic import SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from botkit.config import Settings
from botkit.errors import ConfigError
from botkit.platforms import webhook_platforms


class WebhookSettings(BaseSettings):
    """Secrets, send-API addresses and timings of the webhook app.

    Each field is read from `BOTKIT_<FIELD>` (e.g. `BOTKIT_MESSENGER_APP_SECRET`) or the
    `.env` file. A platform is served when the fields it `needs` are set (see
    `botkit.platforms`): Messenger needs the app secret, the verify token and the Page
    token; WhatsApp the app secret, the verify token and the access token; Telegram the bot
    token and the webhook secret token; Chatwoot its URL, the Agent Bot's token and secret. Secrets are `SecretStr`: they print as `**********`
    and are never logged.
    """

    model_config = SettingsConfigDict(env_prefix="BOTKIT_", env_file=".env", extra="ignore", frozen=True)

    messenger_app_secret: SecretStr | None = None
    whatsapp_app_secret: SecretStr | None = None
    verify_token: SecretStr | None = None  # hub.verify_token of the GET subscription handshake
    messenger_page_token: SecretStr | None = None
    whatsapp_token: SecretStr | None = None
    telegram_bot_token: SecretStr | None = None
    telegram_secret_token: SecretStr | None = None  # the secret_token given to setWebhook
    chatwoot_url: str | None = None  # e.g. https://chat.example.com (Application API base)
    chatwoot_token: SecretStr | None = None  # the Agent Bot's access token (api_access_token header)
    chatwoot_webhook_secret: SecretStr | None = None  # the Agent Bot's secret: X-Chatwoot-Signature
    graph_api_base: str = "https://graph.facebook.com/v21.0"
    telegram_api_base: str = "https://api.telegram.org"
    whatsapp_phone_number_id: str | None = None  # sender number when an event names none
    messenger_app_id: str | None = None  # this app's id, to read handover events exactly
    messenger_handover_app_id: str = "263902037430900"  # Meta's Page Inbox app: where people take over
    send_attempts: int = 4  # tries per send-API call before it waits for `retry_later_seconds`
    send_timeout: float = 10.0
    retry_initial_wait: float = 0.5  # exponential backoff with jitter between tries ...
    retry_max_wait: float = 8.0  # ... capped here; a Retry-After header wins when shorter
    retry_later_seconds: float = 60.0  # a send still failing after all tries is retried this much later
    lease_seconds: float = 30.0  # a crashed worker's unfinished events are taken over after this
    poll_seconds: float = 2.0  # how often a worker looks for work left by others
    reply_workers: int | None = None  # concurrent bot replies per process (a conversation stays in order); 1 in a web process, 2 in `botkit worker`
    max_body_bytes: int = 1_000_000
    agent_token: SecretStr | None = None  # Bearer token of the agent API at /agent; unset: no such routes
    web_replies: bool = True  # the web process also replies and sends; False when `botkit worker` processes do
    wake_poll_seconds: float = 0.1  # how often an idle `botkit worker` on SQLite looks for new events (no NOTIFY)

    def platforms(self) -> tuple[str, ...]:
        """The platforms whose secrets are complete.

        Raises:
            ConfigError: a platform is configured only partly, or none at all.
        """
        platforms = webhook_platforms()
        # A field several platforms need (Meta's verify token) does not say which one is meant.
        shared = {n for n, count in Counter(n for p in platforms for n in p.needs).items() if count > 1}
        served = []
        for platform in platforms:
            missing = [n for n in platform.needs if _empty(getattr(self, n))]
            if not missing:
                served.append(platform.name)
            elif any(not _empty(getattr(self, n)) for n in platform.needs if n not in shared):
                env = ", ".join(f"BOTKIT_{n.upper()}" for n in missing)
                raise ConfigError(f"{platform.name} is configured only partly: also set {env}")
        if not served:
            first = [f"BOTKIT_{p.needs[0].upper()}" for p in platforms]
            raise ConfigError(f"no platform is configured: set {', '.join(first[:-1])} or {first[-1]} with the other variables in the README")
        return tuple(served)

    def secrets(self) -> tuple[str, ...]:
        """Every configured secret value, for scrubbing them from log records."""
        values = (getattr(self, name) for name in type(self).model_fields)
        return tuple(v.get_secret_value() for v in values if isinstance(v, SecretStr) and v.get_secret_value())


def _empty(value: SecretStr | str | None) -> bool:
    return value is None or not (value.get_secret_value() if isinstance(value, SecretStr) else value)


def load_settings(env_file: Path | None = Path(".env"), defaults: dict[str, str] | None = None) -> tuple[Settings, WebhookSettings]:
    """Read the bot's `Settings` and the `WebhookSettings` from the environment and `env_file`.

    Environment variables win over the file, as in pydantic-settings; `defaults` (`BOTKIT_*`
    names) apply where neither sets a value.

    Raises:
        ConfigError: a value does not parse.
    """
    env_file = env_file if env_file is not None and env_file.is_file() else None
    file_values = {k: v for k, v in dotenv_values(env_file).items() if v is not None} if env_file else {}
    merged = (defaults or {}) | file_values | dict(os.environ)
    try:
        webhook = WebhookSettings(_env_file=env_file)
    except ValidationError as exc:
        # Only the names and messages: the input values may be secrets.
        problems = "; ".join(f"BOTKIT_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"invalid webhook settings: {problems}") from exc
    return Settings.from_env(merged), webhook
