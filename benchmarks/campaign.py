"""Campaign benchmark: synthetic opted-in users on three platforms, sent through rate-limiting send-API stand-ins.

Processes besides this one: a PostgreSQL server (Debian's, started as benchmarks/scaleout.py
does; or a SQLite file with `--database sqlite`), the send-API stand-ins
(tests/consent/campaign_api.py on uvicorn: WhatsApp Cloud API, Messenger Send API and Telegram
Bot API wire formats, each enforcing its per-sender limit in every one-second window and
answering "too fast" as the platform does, plus an injected "too fast" every n-th request),
and `--senders` campaign runners (tests/consent/campaign_worker.py, i.e.
`botkit.campaigns.run_campaign`) on the same job, sharing each sender's pace through the
database. This process SIGKILLs the first runner twice mid-run and starts it again. Meanwhile
it withdraws the consent of some users who have not been sent yet, as a STOP in the chat would.

Measured: sends/s per platform (steady: median of one-second bins; overall: accepted over
the span, restarts included) against the limit; refusals for exceeding the limit and the
busiest one-second window; duplicates; sends that arrived after their user's withdrawal had
committed; rows settled "in doubt" (the runner died mid-send; not sent again); refusals within
5 s of a SIGKILL; CPU per accepted send of the runner processes (their starts included) and per
request of the stand-in.

The stand-ins enforce, and the runners are configured with, the limits given by `--limits`,
by default the documented ones in the platform modules (WhatsApp 80/s per number, Messenger
300/s per Page, Telegram 30/s per bot). Users: 50 % WhatsApp, 30 % Messenger, 20 % Telegram
(`--shares messenger=1` for one platform alone).

Run: python -m benchmarks.campaign [--users 100000] [--senders 2] [--database postgresql|sqlite] [--shares ...]
     [--kills 2] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert

from benchmarks.scaleout import new_database, postgres
from botkit.campaigns import CampaignJobs, start_campaign
from botkit.consent import ConsentLedger
from botkit.db import consent_events, conversations, open_database
from botkit.knowledge import load_knowledge
from botkit.platforms import get_platform
from botkit.platforms.outreach import limit

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "knowledge"
TOPIC = "angebote-solar"
SHARES = {"whatsapp": 0.5, "messenger": 0.3, "telegram": 0.2}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def populate(url: str, users: int, seed: int, shares: dict[str, float]) -> list[tuple[str, str]]:
    """Opted-in users who wrote an hour ago, on the platforms in `shares`; returns (user, channel)."""
    engine = open_database(url)
    client = load_knowledge(SAMPLE).client
    version = next(t.version for t in client.topics if t.id == TOPIC)
    rng = random.Random(seed)
    now = time.time()
    people = []
    for n in range(users):
        channel = rng.choices(list(shares), weights=list(shares.values()))[0]
        people.append((f"{n + 10_000_000}" if channel != "messenger" else f"psid{n}", channel))
    grants = [
        {
            "user_id": u,
            "channel": c,
            "topic": TOPIC,
            "state": "granted",
            "version": version,
            "method": "import",
            "evidence": "benchmark",
            "lang": "de",
            "at": now - 7200,
        }
        for u, c in people
    ]
    chats = [
        {
            "id": f"{c}:{u}",
            "user_id": u,
            "channel": c,
            "with_human": 0,
            "misses": 0,
            "needs_disclosure": 0,
            "lang": "de",
            "last_user_at": now - 3600,
            "created_at": now - 7200,
        }
        for u, c in people
    ]
    with engine.begin() as conn:
        for start in range(0, users, 5000):
            conn.execute(insert(consent_events), grants[start : start + 5000])
            conn.execute(insert(conversations), chats[start : start + 5000])
    engine.dispose()
    return people


def stand_in(port: int, limits: dict[str, float], every: dict[str, int], answer_after: float = 0.0) -> subprocess.Popen[bytes]:
    config = {name: {"per_second": rate, "every": every.get(name, 0), "answer_after": answer_after} for name, rate in limits.items()}
    code = (
        "import json, sys, uvicorn\n"
        "from tests.consent.campaign_api import CampaignApi, Limits\n"
        "api = CampaignApi({k: Limits(**v) for k, v in json.loads(sys.argv[1]).items()})\n"
        f"uvicorn.run(api.app, host='127.0.0.1', port={port}, log_level='warning', access_log=False)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code, json.dumps(config)], cwd=ROOT, env=_env())
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/stats", timeout=1).raise_for_status()
            return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the send-API stand-in did not start")


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def runner(url: str, api: str, job: str, limits: dict[str, float], lease: float) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "tests.consent.campaign_worker", url, api, job, json.dumps(limits), str(lease)]
    return subprocess.Popen(command, cwd=ROOT, env=_env(), stdout=subprocess.PIPE)


@contextmanager
def database(kind: str, folder: str) -> Iterator[str]:
    """A SQLite file in `folder`, or a new database on a PostgreSQL server started for this run."""
    if kind == "sqlite":
        yield f"sqlite:///{folder}/bench.db"
        return
    pg_folder = Path(tempfile.mkdtemp(prefix="botkit-campaign-pg-"))  # outside 0700 folders: the postgres user must reach it
    try:
        with postgres(pg_folder) as base:
            yield new_database(base, "campaign")
    finally:
        shutil.rmtree(pg_folder, ignore_errors=True)


def stats(api: str) -> dict[str, Any]:
    return httpx.get(f"{api}/stats", timeout=60).json()


def accepted(api: str) -> int:
    data = httpx.get(f"{api}/stats?counts=1", timeout=60).json()
    return sum(p["accepted"] for p in data.values())


class Withdrawals:
    """Withdraws the consent of random not-yet-sent users while the campaign runs (a STOP in the chat)."""

    def __init__(self, url: str, people: list[tuple[str, str]], count: int, seed: int) -> None:
        self.engine = open_database(url)
        self.ledger = ConsentLedger(self.engine, load_knowledge(SAMPLE).client)
        rng = random.Random(seed + 1)
        # From the second half: the job sends in id order, so these have not been sent yet when withdrawn.
        self.todo = rng.sample(people[len(people) // 2 :], count)
        self.done: dict[tuple[str, str], float] = {}
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        pause = 0.2
        for user, channel in self.todo:
            if self._stop.wait(pause):
                return
            self.ledger.withdraw(user, channel, TOPIC, method="chat", evidence="STOP")
            self.done[(user, channel)] = time.monotonic()  # after the commit

    def stop(self) -> None:
        self._stop.set()
        self.thread.join()
        self.engine.dispose()


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _process_cpu(pid: int) -> float:
    """User and system CPU seconds of a running process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def accepted_total(final: dict[str, Any]) -> int:
    return sum(p["accepted"] for p in final.values())


def steady_rate(times: list[float]) -> float:
    """The median number of sends in the one-second bins between the first and the last send (empty bins left out)."""
    if len(times) < 2:
        return 0.0
    start = times[0]
    bins: dict[int, int] = {}
    for t in times:
        bins[int(t - start)] = bins.get(int(t - start), 0) + 1
    full = [bins[k] for k in sorted(bins)[1:-1]]  # the first and last bins are partial
    return float(statistics.median(full)) if full else 0.0


def per_second(times: list[float]) -> list[int]:
    """Accepted sends in each one-second bin from the first send on."""
    bins = [0] * (int(times[-1] - times[0]) + 1) if times else []
    for t in times:
        bins[int(t - times[0])] += 1
    return bins


def documented_limits() -> str:
    """The per-sender limits the platform modules document, as `--limits` text."""
    parts = []
    for name in SHARES:
        documented = limit(get_platform(name).rate_limits, "sender")
        assert documented is not None, name
        parts.append(f"{name}={documented.per_second:g}")
    return ",".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--limits", default=documented_limits(), help="per-sender limits the stand-ins enforce (default: the documented ones)")
    parser.add_argument("--every", default="whatsapp=1000,messenger=1000,telegram=4000", help="inject a 'too fast' answer every n-th request")
    parser.add_argument("--shares", default=",".join(f"{k}={v:g}" for k, v in SHARES.items()), help="users per platform, e.g. messenger=1")
    parser.add_argument("--withdrawals", type=int, default=200)
    parser.add_argument("--kills", type=int, default=2)
    parser.add_argument("--senders", type=int, default=1, help="runner processes sending the job at once")
    parser.add_argument("--lease", type=float, default=5.0)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="postgresql")
    parser.add_argument("--answer-after", type=float, default=0.0, help="seconds the stand-ins take to answer (a send API across the internet: 0.3)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    limits = {k: float(v) for k, v in (p.split("=") for p in args.limits.split(","))}
    every = {k: int(v) for k, v in (p.split("=") for p in args.every.split(","))}
    args.shares = {k: float(v) for k, v in (p.split("=") for p in args.shares.split(","))}
    folder = tempfile.mkdtemp(prefix="botkit-campaign-bench-")
    with database(args.database, folder) as url:
        result = bench(args, url, limits, every)
    shutil.rmtree(folder, ignore_errors=True)
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


def bench(args: argparse.Namespace, url: str, limits: dict[str, float], every: dict[str, int]) -> dict[str, Any]:
    load_before = os.getloadavg()
    started = time.monotonic()
    people = populate(url, args.users, args.seed, args.shares)
    engine = open_database(url)
    ledger = ConsentLedger(engine, load_knowledge(SAMPLE).client)
    start_campaign(ledger, CampaignJobs(engine), "bench", TOPIC, "Neu: 5 % Rabatt auf die Montage bis Ende Mai.")
    engine.dispose()
    setup_seconds = time.monotonic() - started
    print(f"{args.users} users and the job created in {setup_seconds:.1f} s", flush=True)

    port = free_port()
    api = f"http://127.0.0.1:{port}"
    server = stand_in(port, limits, every, args.answer_after)
    withdrawals = Withdrawals(url, people, args.withdrawals, args.seed)
    kills: list[float] = []
    children_before = _children_cpu()
    try:
        began = time.monotonic()
        withdrawals.thread.start()
        procs = [runner(url, api, "bench", limits, args.lease) for _ in range(args.senders)]
        for k in range(args.kills):
            target = args.users * (k + 1) // (args.kills + 1)
            while accepted(api) < target and procs[0].poll() is None:
                time.sleep(1.0)
            procs[0].send_signal(signal.SIGKILL)  # one sender dies; the others (if any) go on
            procs[0].wait()
            kills.append(time.monotonic() - began)
            print(f"SIGKILL {k + 1} at {kills[-1]:.0f} s, {accepted(api)} accepted", flush=True)
            procs[0] = runner(url, api, "bench", limits, args.lease)
        for proc in procs:
            proc.communicate(timeout=3600)
        elapsed = time.monotonic() - began
        runners_cpu = _children_cpu() - children_before  # the runners, killed ones included (the stand-in is not reaped yet)
        stand_in_cpu = _process_cpu(server.pid)
        engine = open_database(url)
        status = CampaignJobs(engine).status("bench").to_dict()
        engine.dispose()
    finally:
        withdrawals.stop()
        final = stats(api)
        server.terminate()
        server.wait()
    load_after = os.getloadavg()

    late = 0
    for (user, channel), at in withdrawals.done.items():
        sent_at = final[channel]["times"].get(user)
        late += sent_at is not None and sent_at > at
    result: dict[str, Any] = {
        "users": args.users,
        "database": args.database,
        "senders": args.senders,
        "answer_after": args.answer_after,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in load_after],
        "setup_seconds": round(setup_seconds, 1),
        "run_seconds": round(elapsed, 1),
        "kills_at": [round(k, 1) for k in kills],
        "status": status,
        "withdrawn_during_run": len(withdrawals.done),
        "sent_after_withdrawal": late,
        "runner_cpu_ms_per_send": round(1000 * runners_cpu / max(1, accepted_total(final)), 2),
        "stand_in_cpu_ms_per_request": round(1000 * stand_in_cpu / max(1, sum(p["requests"] for p in final.values())), 2),
        "platforms": {},
    }
    for name, p in final.items():
        times = sorted(p["times"].values())
        span = (times[-1] - times[0]) if len(times) > 1 else 0.0
        result["platforms"][name] = {
            "limit": limits[name],
            "accepted": p["accepted"],
            "duplicates": p["duplicates"],
            "over_limit": p["over"],
            # refused within 5 s of a SIGKILL (the restart, and the killed runner's sends in flight)
            "over_limit_after_kill": sum(any(0 <= t - (began + k) < 5 for k in kills) for t in p["over_at"]),
            "busiest_second": p["busiest_second"],
            "injected_too_fast": p["injected"],
            "steady_per_second": steady_rate(times),
            "overall_per_second": round(len(times) / span, 1) if span else 0.0,
            "steady_share_of_limit": round(steady_rate(times) / limits[name], 3),
            "per_second": per_second(times),
        }
    # Every accepted send is to a distinct user (duplicates aside), and every "sent" row was accepted: the rest of
    # the accepted sends are the in-doubt rows that did reach their user.
    result["in_doubt_delivered"] = sum(p["accepted"] - p["duplicates"] for p in final.values()) - status["sent"]
    return result


if __name__ == "__main__":
    main()
