"""Consent: an append-only GDPR consent ledger, the in-chat opt-in/withdrawal flow, and campaigns.

```python
from botkit.consent import ConsentFlow, ConsentLedger, send_campaign

ledger = ConsentLedger(engine, knowledge.client)      # the bot's database engine
bot = Bot(..., consent=ConsentFlow(ledger))           # `open_bot` does this for you
report = send_campaign(ledger, "angebote-solar", "Neu: ...")  # no `send`: a dry run
```
"""

from __future__ import annotations

from botkit.consent.campaign import CampaignReport, CampaignResult, send_campaign, send_campaign_async
from botkit.consent.flow import ConsentFlow
from botkit.consent.intents import Intent, classify
from botkit.consent.ledger import GRANTED, PENDING, WITHDRAWN, ConsentEvent, ConsentLedger

__all__ = [
    "GRANTED",
    "PENDING",
    "WITHDRAWN",
    "CampaignReport",
    "CampaignResult",
    "ConsentEvent",
    "ConsentFlow",
    "ConsentLedger",
    "Intent",
    "classify",
    "send_campaign",
    "send_campaign_async",
]
