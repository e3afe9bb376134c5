"""Campaigns as resumable jobs in the database, sent through the platforms' send APIs within their rate limits.

```python
from botkit.campaigns import CampaignJobs, run_campaign, start_campaign

jobs = CampaignJobs(engine)
start_campaign(ledger, jobs, "spring-sale", "angebote-solar", "Neu: 5 % Rabatt.")
status = run_campaign(ledger, jobs, "spring-sale", webhook_settings)  # again after a crash: resumes
```
"""

from __future__ import annotations

from botkit.campaigns.jobs import CampaignJobs, CampaignStatus, Job
from botkit.campaigns.runner import CampaignRunner, RunnerOptions, run_campaign
from botkit.campaigns.start import start_campaign

__all__ = ["CampaignJobs", "CampaignRunner", "CampaignStatus", "Job", "RunnerOptions", "run_campaign", "start_campaign"]
