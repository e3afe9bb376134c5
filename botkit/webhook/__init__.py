"""Serve a bot on the webhooks of the platforms in `botkit.platforms` (needs the `server` extra).

```python
from botkit import open_bot
from botkit.webhook import WebhookSettings, create_app

app = create_app(open_bot("knowledge/"), WebhookSettings())  # reads BOTKIT_* and .env
```

`create_app` loads on first use (PEP 562): a process that needs another part, such as a campaign
runner importing `botkit.webhook.logs`, does not import the web app (FastAPI, the bot, the desk).
"""

from __future__ import annotations

import typing

from botkit.platforms.meta import sign, verify_hub_signature
from botkit.platforms.telegram import verify_telegram_token
from botkit.webhook.parse import Inbound, parse
from botkit.webhook.settings import WebhookSettings, load_settings

if typing.TYPE_CHECKING:
    from botkit.webhook.app import create_app

__all__ = [
    "Inbound",
    "WebhookSettings",
    "create_app",
    "load_settings",
    "parse",
    "sign",
    "verify_hub_signature",
    "verify_telegram_token",
]


def __getattr__(name: str) -> typing.Any:
    if name != "create_app":
        raise AttributeError(f"module 'botkit.webhook' has no attribute {name!r}")
    from botkit.webhook.app import create_app

    globals()["create_app"] = create_app  # later lookups skip this function
    return create_app


def __dir__() -> list[str]:
    return sorted({*globals(), "create_app"})
