"""Serve a bot on Messenger, WhatsApp Cloud API and Telegram webhooks (needs the `server` extra).

```python
from botkit import open_bot
from botkit.webhook import WebhookSettings, create_app

app = create_app(open_bot("knowledge/"), WebhookSettings())  # reads BOTKIT_* and .env
```
"""

from __future__ import annotations

from botkit.webhook.app import create_app
from botkit.webhook.parse import Inbound, parse
from botkit.webhook.settings import WebhookSettings, load_settings
from botkit.webhook.verify import sign, verify_hub_signature, verify_telegram_token

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
