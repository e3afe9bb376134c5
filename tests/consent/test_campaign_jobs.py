"""Campaign jobs send through real HTTP to rate-limiting send-API stand-ins, on SQLite and PostgreSQL.

The stand-ins (tests/consent/campaign_api.py) speak the WhatsApp Cloud API, Messenger Send API
and Telegram Bot API wire formats, including their "too fast" answers.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from botkit.campaigns import CampaignJobs, CampaignRunner, RunnerOptions, start_campaign
from botkit.campaigns.limiter import Pacer
from botkit.campaigns.sender import campaign_session
from botkit.cli import app
from botkit.consent import ConsentLedger
from botkit.db import campaign_deliveries, campaign_recipients, open_database
from botkit.errors import ConsentError
from botkit.knowledge import load_knowledge
from botkit.store import ConversationStore
from tests.conftest import SAMPLE
from tests.consent.campaign_api import RARE_REFUSALS, CampaignApi, Limits, busiest
from tests.consent.campaign_worker import settings as api_settings
from tests.webhook.support import ServerThread

CLIENT = load_knowledge(SAMPLE).client
TOPIC = "angebote-solar"
ROOT = Path(__file__).resolve().parents[2]
FAST = {"whatsapp": Limits(1000), "messenger": Limits(1000), "telegram": Limits(1000)}
QUICK = {"whatsapp": 1000, "messenger": 1000, "telegram": 1000}  # paced far below the documented limits otherwise


@pytest.fixture
def engine(database_url):
    engine = open_database(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def ledger(engine) -> ConsentLedger:
    return ConsentLedger(engine, CLIENT)


@pytest.fixture
def serve_api():
    servers: list[ServerThread] = []

    def start(limits: dict[str, Limits]) -> tuple[CampaignApi, str]:
        api = CampaignApi(limits)
        server = ServerThread(api.app).start()
        servers.append(server)
        return api, server.url

    yield start
    for server in servers:
        server.stop()


def opted_in(ledger: ConsentLedger, user: str, channel: str, hours_ago: float | None = 1.0) -> None:
    ledger.grant(user, channel, TOPIC)
    if hours_ago is not None:
        store = ConversationStore(ledger.engine, lambda: time.time() - hours_ago * 3600)
        store.save(replace(store.load(f"{channel}-{user}", user, channel), lang="de"), "Hallo", None)


def run(ledger: ConsentLedger, jobs: CampaignJobs, job: str, url: str, **options) -> dict:
    options.setdefault("rates", QUICK)

    async def main():
        async with campaign_session(8) as client:
            runner = CampaignRunner(ledger, jobs, client, api_settings(url), options=RunnerOptions(**options))
            return await runner.run(job)

    return asyncio.run(main()).to_dict()


def test_each_reachable_user_gets_the_campaign_once_and_the_counts_add_up(ledger, engine, serve_api):
    for n in range(6):
        opted_in(ledger, f"49170{n}", "whatsapp")
        opted_in(ledger, f"psid{n}", "messenger")
        opted_in(ledger, f"{7000 + n}", "telegram", hours_ago=200)  # a bot may write to anyone who once wrote
    opted_in(ledger, "49999", "whatsapp", hours_ago=25)  # outside the window, no template
    opted_in(ledger, "psid-old", "messenger", hours_ago=30)
    opted_in(ledger, "8888", "telegram", hours_ago=None)  # never wrote to the bot
    opted_in(ledger, "web-1", "web")
    opted_in(ledger, "4915", "sms")
    older = replace(CLIENT, topics=tuple(replace(t, version="2025-01-01") for t in CLIENT.topics))
    opted_in(ConsentLedger(engine, older), "psid-v1", "messenger")
    ledger.grant("psid-gone", "messenger", TOPIC)
    ledger.withdraw("psid-gone", "messenger", TOPIC)  # not in the job at all
    api, url = serve_api(FAST)
    jobs = CampaignJobs(engine)
    start_campaign(ledger, jobs, "c1", TOPIC, "Neu: 5 % Rabatt.")

    status = run(ledger, jobs, "c1", url)

    stats = api.stats()
    assert stats["whatsapp"]["recipients"] == {f"49170{n}": 1 for n in range(6)}
    assert stats["messenger"]["recipients"] == {f"psid{n}": 1 for n in range(6)}
    assert stats["telegram"]["recipients"] == {f"{7000 + n}": 1 for n in range(6)}
    assert status == {
        "campaign": "c1",
        "topic": TOPIC,
        "total": 24,
        "sent": 18,
        "remaining": 0,
        "done": True,
        "failed": {},
        "skipped": {"outside_window": 2, "unreachable": 2, "no_sender": 1, "no_consent": 1},
    }
    with engine.connect() as conn:
        notices = conn.execute(select(func.sum(campaign_deliveries.c.objection_notice)).where(campaign_deliveries.c.campaign == "c1")).scalar()
    assert notices == 18  # the first marketing message to each carries the Art. 21(4) notice
    assert run(ledger, jobs, "c1", url)["sent"] == 18  # running a finished job again sends nobody
    assert sum(p["accepted"] for p in api.stats().values()) == 18


def test_a_whatsapp_user_outside_the_window_gets_the_approved_template(ledger, engine, serve_api):
    opted_in(ledger, "4930", "whatsapp", hours_ago=48)
    api, url = serve_api(FAST)
    jobs = CampaignJobs(engine)
    start_campaign(ledger, jobs, "t1", TOPIC, "Neu.", whatsapp_template="solar_offer_1")
    assert run(ledger, jobs, "t1", url)["sent"] == 1
    body = api.stats()["whatsapp"]["bodies"]["4930"]
    assert body["type"] == "template"
    assert body["template"] == {"name": "solar_offer_1", "language": {"code": "de"}}
    with engine.connect() as conn:
        assert conn.execute(select(campaign_deliveries.c.detail)).scalars().all() == ["template solar_offer_1"]


def test_a_withdrawal_during_the_run_stops_the_send_to_that_user(ledger, engine, serve_api):
    users = [f"{9000 + n}" for n in range(30)]
    for user in users:
        opted_in(ledger, user, "telegram")
    api, url = serve_api({"telegram": Limits(20)})
    jobs = CampaignJobs(engine)
    start_campaign(ledger, jobs, "w1", TOPIC, "Neu.")
    late = users[-1]

    def withdraw_when_started() -> None:
        deadline = time.monotonic() + 20
        while api.stats()["telegram"]["accepted"] < 5 and time.monotonic() < deadline:
            time.sleep(0.01)
        ledger.withdraw(late, "telegram", TOPIC)  # the user wrote STOP while the campaign runs

    stopper = threading.Thread(target=withdraw_when_started)
    stopper.start()
    status = run(ledger, jobs, "w1", url, rates={"telegram": 20})
    stopper.join()

    assert late not in api.stats()["telegram"]["recipients"]
    assert status["skipped"] == {"withdrawn": 1}
    assert status["sent"] == 29


def test_the_pacer_keeps_every_sender_under_its_limit_and_near_it(ledger, engine, serve_api):
    for n in range(90):
        opted_in(ledger, f"4917{n:03d}", "whatsapp")
        opted_in(ledger, f"psid{n}", "messenger")
    api, url = serve_api({"whatsapp": Limits(40), "messenger": Limits(30)})
    jobs = CampaignJobs(engine)
    start_campaign(ledger, jobs, "r1", TOPIC, "Neu.")
    started = time.monotonic()
    status = run(ledger, jobs, "r1", url, rates={"whatsapp": 40, "messenger": 30})
    stats = api.stats()
    assert status["sent"] == 180
    for name, limit in (("whatsapp", 40), ("messenger", 30)):
        assert stats[name]["over"] <= RARE_REFUSALS * stats[name]["accepted"], name  # unpaced: most refused
        assert stats[name]["accepted"] / (time.monotonic() - started) <= limit
    # 90 users at 95 % of 30/s take at least 3 s; the slower sender bounds the run from below
    assert time.monotonic() - started >= 89 / 30


def test_too_fast_answers_are_honoured_with_backoff_and_nobody_gets_two(ledger, engine, serve_api):
    for n in range(40):
        opted_in(ledger, f"4916{n:03d}", "whatsapp")
        opted_in(ledger, f"{6000 + n}", "telegram")
    # Every 7th request is refused "too fast" (WhatsApp code 130429 with HTTP 400; Telegram 429 retry_after 0).
    api, url = serve_api({"whatsapp": Limits(1000, every=7), "telegram": Limits(1000, every=7, retry_after=0)})
    jobs = CampaignJobs(engine)
    start_campaign(ledger, jobs, "b1", TOPIC, "Neu.")
    status = run(ledger, jobs, "b1", url, backoff=0.01, rates={"whatsapp": 1000, "telegram": 1000})
    stats = api.stats()
    assert status["sent"] == 80
    for name in ("whatsapp", "telegram"):
        assert stats[name]["injected"] >= 40 // 7
        assert stats[name]["duplicates"] == 0
        assert stats[name]["accepted"] == 40


def test_a_send_that_stays_rate_limited_goes_back_and_then_fails(ledger, engine, serve_api):
    opted_in(ledger, "psid-x", "messenger")
    api, url = serve_api({"messenger": Limits(1000, every=1)})  # every request refused with code 613
    jobs = CampaignJobs(engine)
    start_campaign(ledger, jobs, "f1", TOPIC, "Neu.")
    status = run(ledger, jobs, "f1", url, backoff=0.001, tries=2, rounds=2, retry_later=0.05)
    assert status["failed"] == {"rate_limited": 1}
    assert api.stats()["messenger"]["requests"] == 4  # 2 tries in each of 2 rounds


def test_a_rejected_send_fails_without_a_retry(ledger, engine, serve_api):
    opted_in(ledger, "psid-y", "messenger")
    _, url = serve_api(FAST)
    jobs = CampaignJobs(engine)
    start_campaign(ledger, jobs, "x1", TOPIC, "Neu.")
    status = run(ledger, jobs, "x1", f"{url}/nowhere")
    assert status["failed"] == {"rejected": 1}  # the stand-in answers 404 for an unknown path


def test_a_job_id_cannot_be_reused_for_another_message(ledger, engine):
    jobs = CampaignJobs(engine)
    start_campaign(ledger, jobs, "same", TOPIC, "Neu.")
    with pytest.raises(ConsentError, match="exists with another"):
        start_campaign(ledger, jobs, "same", TOPIC, "Anders.")
    with pytest.raises(ConsentError, match="no campaign job 'other'"):
        jobs.status("other")


def test_resuming_after_a_sigkill_sends_nobody_twice(ledger, engine, database_url, serve_api):
    users = [f"4915{n:04d}" for n in range(100)]
    for user in users:
        opted_in(ledger, user, "whatsapp")
    api, url = serve_api({"whatsapp": Limits(1000)})
    jobs = CampaignJobs(engine)
    start_campaign(ledger, jobs, "k1", TOPIC, "Neu.")
    command = [sys.executable, "-m", "tests.consent.campaign_worker", database_url, url, "k1", json.dumps({"whatsapp": 60}), "1.0"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    worker = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while api.stats()["whatsapp"]["accepted"] < 30 and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(worker.pid, signal.SIGKILL)  # mid-run, while sends are in flight
    worker.wait(timeout=30)
    assert 30 <= api.stats()["whatsapp"]["accepted"] < len(users)
    final = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True)
    status = json.loads(final.stdout.strip().splitlines()[-1])

    stats = api.stats()["whatsapp"]
    assert stats["duplicates"] == 0
    assert status["remaining"] == 0
    in_doubt = status["failed"].get("in_doubt", 0)
    assert status["sent"] + in_doubt == len(users)
    assert status["sent"] <= stats["accepted"] <= status["sent"] + in_doubt
    with engine.connect() as conn:
        rows = conn.execute(select(campaign_recipients.c.user_id).where(campaign_recipients.c.status == "sent")).scalars().all()
    assert set(rows) <= set(stats["recipients"])


def test_campaign_status_on_the_command_line(ledger, engine, tmp_path, serve_api, monkeypatch):
    opted_in(ledger, "9100", "telegram")
    opted_in(ledger, "web-2", "web")
    _, url = serve_api(FAST)
    jobs = CampaignJobs(engine)
    start_campaign(ledger, jobs, "cli1", TOPIC, "Neu.")
    run(ledger, jobs, "cli1", url)
    monkeypatch.setenv("BOTKIT_DATABASE_URL", str(engine.url.render_as_string(hide_password=False)))
    result = CliRunner().invoke(app, ["campaign", "status", str(SAMPLE), "cli1", "--json", "--index-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) | {} == {
        "campaign": "cli1",
        "topic": TOPIC,
        "total": 2,
        "sent": 1,
        "skipped": {"unreachable": 1},
        "failed": {},
        "remaining": 0,
        "done": True,
    }
    table = CliRunner().invoke(app, ["campaign", "status", str(SAMPLE), "cli1", "--index-dir", str(tmp_path)])
    assert "unreachable" in table.output and "done" in table.output


def test_busiest_counts_the_fullest_one_second_window():
    assert busiest([0.0, 0.5, 0.99, 1.0, 1.5]) == 3
    assert busiest([]) == 0


def test_the_pacer_spaces_sends_and_caps_each_window_after_a_stall():
    now = [0.0]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    pacer = Pacer(clock=lambda: now[0], sleep=sleep)
    pacer.configure("s", 10)

    async def sends(n: int) -> list[float]:
        times = []
        for _ in range(n):
            await pacer.acquire("s")
            times.append(now[0])
        return times

    times = asyncio.run(sends(25))
    assert busiest(times) <= 10
    assert times[-1] == pytest.approx(2.4)
    pacer.pause("s", 5)
    assert asyncio.run(sends(1))[0] == pytest.approx(7.4)
    with pytest.raises(ValueError):
        pacer.configure("s", 0)


def test_campaign_send_on_the_command_line_sends_and_resumes(ledger, engine, tmp_path, serve_api, monkeypatch):
    opted_in(ledger, "9200", "telegram")
    opted_in(ledger, "9201", "telegram")
    api, url = serve_api(FAST)
    monkeypatch.setenv("BOTKIT_DATABASE_URL", str(engine.url.render_as_string(hide_password=False)))
    monkeypatch.setenv("BOTKIT_TELEGRAM_BOT_TOKEN", "123456:test-telegram-bot-token")
    monkeypatch.setenv("BOTKIT_TELEGRAM_SECRET_TOKEN", "test-telegram-secret_token")
    monkeypatch.setenv("BOTKIT_TELEGRAM_API_BASE", url)
    command = [
        "campaign",
        str(SAMPLE),
        TOPIC,
        "Neu.",
        "--send",
        "--id",
        "cli-send",
        "--rate",
        "telegram=1000",
        "--json",
        "--index-dir",
        str(tmp_path),
        "--env-file",
        str(tmp_path / "none.env"),
    ]
    first = CliRunner().invoke(app, command)
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["sent"] == 2
    again = CliRunner().invoke(app, command)  # the same id resumes the finished job: nobody gets it twice
    assert json.loads(again.stdout)["sent"] == 2
    assert api.stats()["telegram"]["recipients"] == {"9200": 1, "9201": 1}
    bad = CliRunner().invoke(app, [*command[:-2], "--rate", "telegram=fast"])
    assert bad.exit_code != 0
