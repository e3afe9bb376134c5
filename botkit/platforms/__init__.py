"""One module per messaging platform, and the registry everything else asks.

```python
from botkit.platforms import get_platform

get_platform("telegram").parse(body, headers)  # -> [Inbound(...)]
```

Adding a platform: a module here with one class implementing `Platform`, an instance in
`_ALL` below, and its tests; the webhook serves it once its `needs` are set.
"""

from __future__ import annotations

from botkit.errors import ConfigError
from botkit.platforms.base import Platform
from botkit.platforms.chatwoot import Chatwoot
from botkit.platforms.events import ANSWERED_KINDS, HANDOVER_KINDS, PERSON_KINDS, Inbound, Kind, Outgoing
from botkit.platforms.messenger import Messenger
from botkit.platforms.sms import Sms
from botkit.platforms.telegram import Telegram
from botkit.platforms.web import Web
from botkit.platforms.whatsapp import WhatsApp

_ALL: tuple[Platform, ...] = (Messenger(), WhatsApp(), Telegram(), Sms(), Web(), Chatwoot())
PLATFORMS: dict[str, Platform] = {p.name: p for p in _ALL}


def get_platform(name: str) -> Platform:
    """The platform called `name`.

    Raises:
        ConfigError: no platform has that name; the message lists the known ones.
    """
    platform = PLATFORMS.get(name)
    if platform is None:
        raise ConfigError(f"unknown platform {name!r}; known: {', '.join(PLATFORMS)}")
    return platform


def webhook_platforms() -> tuple[Platform, ...]:
    """The platforms with a webhook, in registry order."""
    return tuple(p for p in _ALL if p.needs)


__all__ = [
    "ANSWERED_KINDS",
    "HANDOVER_KINDS",
    "PERSON_KINDS",
    "PLATFORMS",
    "Inbound",
    "Kind",
    "Outgoing",
    "Platform",
    "get_platform",
    "webhook_platforms",
]
