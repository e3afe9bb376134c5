"""Serve a bot on the webhooks of the platforms in `botkit.platforms` (needs the `server` extra).

```python
from botkit import open_bot
from botkit.webhook import WebhookSettings, create_app

app = create_app(open_bot("knowledge/"), WebhookSettings())  # reads BOTKIT_* and .env
```
"""

from __future__ import annotations

from botkit.platforms.meta import sign, verify_hub_signature
from botkit.platforms.telegram import verify_telegram_token
from botkit.webhook.app import create_app
from botkit.webhook.parse import Inbound, parse
from botkit.webhook.settings import WebhookSettings, load_settings

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
