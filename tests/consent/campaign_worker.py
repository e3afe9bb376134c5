"""A separate process that runs a campaign job, for the crash tests and the benchmark (not a test module).

Usage: python -m tests.consent.campaign_worker DATABASE_URL API_URL JOB_ID RATES_JSON LEASE_SECONDS

Runs `botkit.campaigns.run_campaign` against the send-API stand-ins at API_URL with the
sample knowledge base's topics, and prints the final counts as one JSON line.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

from botkit.campaigns import CampaignJobs, RunnerOptions, run_campaign
from botkit.consent import ConsentLedger
from botkit.db import open_database
from botkit.knowledge import load_knowledge
from botkit.webhook.settings import WebhookSettings

SAMPLE = Path(__file__).resolve().parents[2] / "knowledge"  # the sample knowledge base (without importing the test configuration)


def settings(api_url: str) -> WebhookSettings:
    """Send-API settings aimed at the stand-ins (test tokens)."""
    return WebhookSettings(
        _env_file=None,  # type: ignore[call-arg]
        whatsapp_token="test-whatsapp-token-EAAG",
        messenger_page_token="test-page-token-EAAB",
        telegram_bot_token="123456:test-telegram-bot-token",
        whatsapp_phone_number_id="PNID1",
        graph_api_base=f"{api_url}/v21.0",
        telegram_api_base=api_url,
        whatsapp_app_secret="s",
        messenger_app_secret="s",
        verify_token="v",
        telegram_secret_token="t",
    )


def main(url: str, api_url: str, job_id: str, rates: str, lease: str) -> None:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(message)s")
    logging.getLogger("botkit").setLevel(logging.INFO)  # the runner's summary lines
    engine = open_database(url)
    ledger = ConsentLedger(engine, load_knowledge(SAMPLE).client)
    options = RunnerOptions(rates=json.loads(rates), lease=float(lease))
    status = run_campaign(ledger, CampaignJobs(engine), job_id, settings(api_url), options=options)
    print(json.dumps(status.to_dict()), flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:6])
