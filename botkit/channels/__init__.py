"""Channel formatting: profiles, rendering into short messages, and lint.

```python
from botkit.channels import render
from botkit.types import Draft

render("whatsapp", Draft("*Öffnungszeiten:* Mo-Fr 9-17 Uhr.", quick_replies=("Adresse",)))
```
"""

from __future__ import annotations

from botkit.channels.lint import (
    LintFinding,
    format_findings,
    has_hard_findings,
    lint_entries,
)
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
from botkit.channels.split import measure

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
