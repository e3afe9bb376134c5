"""Channel formatting: profiles, rendering into short messages, and lint.

```python
from botkit.channels import render
from botkit.types import Draft

render("whatsapp", Draft("*Öffnungszeiten:* Mo-Fr 9-17 Uhr.", quick_replies=("Adresse",)))
```
"""

from __future__ import annotations

from botkit.channels.lint import LintFinding, format_findings, has_hard_findings, lint_entries
from botkit.channels.profiles import (
    CHANNELS,
    ChannelProfile,
    Citation,
    HouseRules,
    SmsSegments,
    get_profile,
)
from botkit.channels.render import render, render_report
from botkit.channels.sms import SmsInfo, prefer_gsm7, sms_info
from botkit.channels.split import measure_unit


def measure(channel: str, text: str) -> int:
    """Length of `text` in the channel's unit (code points, UTF-16 units, or SMS units).

    For Telegram, whose limits apply after entity parsing, pass the visible text rather
    than MarkdownV2 source. For SMS the unit is septets in GSM-7 and UTF-16 units once a
    character forces UCS-2.
    """
    return measure_unit(get_profile(channel).length_unit, text)


__all__ = [
    "CHANNELS",
    "ChannelProfile",
    "Citation",
    "HouseRules",
    "LintFinding",
    "SmsInfo",
    "SmsSegments",
    "format_findings",
    "get_profile",
    "has_hard_findings",
    "lint_entries",
    "measure",
    "prefer_gsm7",
    "render",
    "render_report",
    "sms_info",
]
