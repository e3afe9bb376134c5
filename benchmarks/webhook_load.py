"""Load benchmark of the served webhook bot, on loopback, against two baselines in the same run.

Three processes besides this one: the exported bot served by uvicorn (`--workers`, default 1),
a send-API stand-in that records every reply with its arrival time, and a bare FastAPI echo
app. This process plays the platform: simulated users post signed WhatsApp messages over 50
keep-alive connections.

Measured, side by side:
- (a) the bare echo endpoint: requests/s and latency at the same concurrency;
- (b) the bot's in-process reply rate: `bot.reply` in a loop on the same messages;
- the bot's acknowledgement latency at 50 connections: in a burst of `--messages` posts as fast
  as 50 connections allow (closed loop: measures capacity), and while paced;
- sustained end-to-end throughput: burst messages / time from the first post until the
  last reply is recorded by the stand-in;
- end-to-end latency (post -> last message of the reply recorded) at half that throughput,
  paced for `--seconds`;
- lost and duplicated replies: every acknowledged message must have its reply recorded
  exactly once (checked against the outbox in the database).

Each message comes from a new user (so every reply has the disclosure and the answer) with a
question from `evaluations/data/cases.csv`. Bounded: `--messages` posts, `--seconds` of pacing,
a timeout on every wait; 127.0.0.1 only.

Run: .venv/bin/python -m benchmarks.webhook_load [--messages 2000] [--seconds 15] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
from fastapi import FastAPI, Request
from sqlalchemy import create_engine, select

if TYPE_CHECKING:
    from botkit.config import Settings

ROOT = Path(__file__).resolve().parent.parent
KNOWLEDGE = ROOT / "knowledge"
CASES = ROOT / "evaluations" / "data" / "cases.csv"
SECRET = "bench-app-secret"
TARGETS = {"ack_p99_ms": 20.0, "throughput_ratio": 0.7, "e2e_p99_ms": 100.0}


# The two helper apps, started in their own processes by uvicorn --factory -------------------


class StandIn:
    """The Graph API stand-in: records (recipient, arrival time) of every send and answers 200.

    A bare asyncio HTTP/1.1 server rather than an ASGI app: it plays Meta's servers, which
    do not share the benchmark machine's two cores in real life, so it should cost little.
    `GET /stats` returns the records.
    """

    def __init__(self) -> None:
        self.records: list[tuple[str, float]] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while request_line := await reader.readline():
                length = 0
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                body = await reader.readexactly(length) if length else b""
                if request_line.startswith(b"GET /stats"):
                    answer = json.dumps({"records": self.records}).encode()
                else:
                    self.records.append((str(json.loads(body).get("to")), time.time()))
                    answer = b'{"messaging_product":"whatsapp","messages":[{"id":"wamid.out"}]}'
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(answer), answer))
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client went away: nothing to answer
        finally:
            writer.close()


def serve_stand_in(port: int) -> None:
    """Run the stand-in on 127.0.0.1:`port` until killed (the body of its process)."""

    async def main() -> None:
        server = await asyncio.start_server(StandIn().handle, "127.0.0.1", port)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def echo_app() -> FastAPI:
    """Baseline (a): the bare FastAPI endpoint that does nothing but answer."""
    app = FastAPI()

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    return app


# Helpers --------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Served:
    """An ASGI factory served by uvicorn (or a raw server function) in its own process, on 127.0.0.1."""

    def __init__(self, factory: str, *, cwd: Path, env: dict[str, str] | None = None, log: Path, workers: int = 1, raw: bool = False) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        args = [
            sys.executable,
            "-m",
            "uvicorn",
            factory,
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--no-access-log",
            "--log-level",
            "warning",
            "--ws",
            "none",
            "--workers",
            str(workers),
        ]
        if raw:  # a plain function of the port, not an ASGI app
            module, _, function = factory.partition(":")
            args = [sys.executable, "-c", f"import {module}; {module}.{function}({self.port})"]
        self._log = open(log, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(args, cwd=cwd, env={**os.environ, **(env or {})}, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{factory} exited: {log.read_text()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"{factory} did not start")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)
        self._log.close()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))] if ordered else float("nan")


def questions() -> list[str]:
    with CASES.open(encoding="utf-8") as handle:
        return [row["question"] for row in csv.DictReader(handle)]


def whatsapp_body(user: str, mid: str, text: str) -> bytes:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550000000", "phone_number_id": "PNID1"},
        "contacts": [{"profile": {"name": "Load"}, "wa_id": user}],
        "messages": [{"from": user, "id": mid, "timestamp": "1780000000", "type": "text", "text": {"body": text}}],
    }
    envelope = {"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [{"value": value, "field": "messages"}]}]}
    return json.dumps(envelope, ensure_ascii=False).encode()


@dataclass
class Posted:
    user: str
    started: float  # wall clock, comparable with the stand-in's arrival times
    ack_ms: float
    status: int


class Connection:
    """A minimal keep-alive HTTP/1.1 client connection: a load generator must cost far less than the server."""

    def __init__(self, url: str) -> None:
        parsed = httpx.URL(url)
        self.host, self.port, self.path = parsed.host, parsed.port, parsed.raw_path.decode()
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def post(self, body: bytes, headers: dict[str, str]) -> int:
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        request = f"POST {self.path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Length: {len(body)}\r\n{head}\r\n".encode() + body
        for _ in range(2):  # the server closes keep-alive connections idle for 5 s: open a new one and post again
            if self._reader is None or self._writer is None:
                self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
            reader = self._reader
            try:
                self._writer.write(request)
                status_line = await reader.readline()
            except ConnectionError:
                status_line = b""
            if status_line:
                break
            await self.close()
        status = int(status_line.split()[1])
        length = 0
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        await reader.readexactly(length)
        return status

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(ConnectionError):
                await self._writer.wait_closed()
            self._reader = self._writer = None


async def post_all(url: str, bodies: list[tuple[str, bytes]], connections: int, sign: bool, rate: float | None = None) -> tuple[list[Posted], float]:
    """Post every body over `connections` keep-alive connections, as fast as possible or paced at `rate`/s."""
    from botkit.webhook import sign as signature

    results: list[Posted] = []
    queue: asyncio.Queue[tuple[int, str, bytes]] = asyncio.Queue()
    for i, (user, body) in enumerate(bodies):
        queue.put_nowait((i, user, body))
    start = time.perf_counter()

    async def sender() -> None:
        connection = Connection(url)
        try:
            while not queue.empty():
                i, user, body = queue.get_nowait()
                if rate is not None:  # open loop: the i-th message is due at i / rate
                    delay = start + i / rate - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                headers = {"Content-Type": "application/json"}
                if sign:
                    headers["X-Hub-Signature-256"] = signature(body, SECRET)
                wall, t0 = time.time(), time.perf_counter()
                status = await connection.post(body, headers)
                results.append(Posted(user, wall, (time.perf_counter() - t0) * 1000, status))
        finally:
            await connection.close()

    await asyncio.gather(*(sender() for _ in range(connections)))
    return results, time.perf_counter() - start


def summary(values: list[float]) -> dict[str, float]:
    return {"p50": round(percentile(values, 50), 2), "p99": round(percentile(values, 99), 2), "max": round(max(values), 2)}


def records(stand_in: Served) -> list[tuple[str, float]]:
    return [tuple(r) for r in httpx.get(f"{stand_in.url}/stats", timeout=30).json()["records"]]


def outbox_counts(database: Path) -> dict[str, int]:
    """Sends per recipient that the bot queued, from its database."""
    from botkit.db import webhook_outbox

    engine = create_engine(f"sqlite:///{database}")
    with engine.connect() as conn:
        rows = conn.execute(select(webhook_outbox.c.user_id, webhook_outbox.c.status)).all()
    engine.dispose()
    counts: dict[str, int] = {}
    for user, _status in rows:
        counts[user] = counts.get(user, 0) + 1
    return counts


def wait_for_replies(stand_in: Served, server: Served, users: set[str], timeout: float) -> list[tuple[str, float]]:
    """Wait until the server has no pending work and every user got at least one message."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        health = httpx.get(f"{server.url}/healthz", timeout=30).json()
        if health["pending"] == {"inbox": 0, "outbox": 0}:
            got = records(stand_in)
            if users <= {u for u, _ in got}:
                return got
        time.sleep(0.05)
    raise RuntimeError(f"replies still missing after {timeout} s")


def check_delivery(got: list[tuple[str, float]], expected: dict[str, int], users: set[str]) -> tuple[int, int]:
    """(lost, duplicated) replies: messages recorded per user against the sends the bot queued."""
    seen: dict[str, int] = {}
    for user, _ in got:
        if user in users:
            seen[user] = seen.get(user, 0) + 1
    lost = sum(1 for u in users if seen.get(u, 0) < expected.get(u, 1))
    duplicated = sum(1 for u in users if seen.get(u, 0) > expected.get(u, 1))
    return lost, duplicated


def e2e_ms(posted: list[Posted], got: list[tuple[str, float]]) -> list[float]:
    last: dict[str, float] = {}
    for user, at in got:
        last[user] = max(at, last.get(user, 0.0))
    return [(last[p.user] - p.started) * 1000 for p in posted if p.user in last]


# The run ----------------------------------------------------------------------------------------


def reply_rate(settings: Settings, texts: list[str], seconds: float) -> float:
    """Replies per second of `bot.reply` in a loop on a bot opened with `settings`, new user per message."""
    from botkit import open_bot

    with open_bot(KNOWLEDGE, settings) as bot:
        for i in range(20):  # warm up
            bot.reply(f"warm{i}", texts[i % len(texts)], "whatsapp")
        count, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            bot.reply(f"inproc{count}", texts[count % len(texts)], "whatsapp", user_id=f"49170{count:08d}")
            count += 1
        return count / (time.perf_counter() - start)


def in_process_rate(work: Path, texts: list[str], seconds: float) -> float:
    """Baseline (b): the reply rate on SQLite and an on-disk index in `work`."""
    from botkit import Settings

    return reply_rate(Settings(index_dir=work / "index", database_url=f"sqlite:///{work / 'inprocess.db'}"), texts, seconds)


def run(messages: int, seconds: float, connections: int, reply_workers: int, workers: int) -> dict[str, Any]:
    from botkit import Settings
    from botkit.webhook.export import export_bot
    from botkit.wiring import build

    texts = questions()
    results: dict[str, Any] = {
        "messages": messages,
        "connections": connections,
        "reply_workers": reply_workers,
        "workers": workers,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        build(KNOWLEDGE, Settings(index_dir=work / "index"))
        exported = export_bot(KNOWLEDGE, work / "export", Settings(index_dir=work / "index"))

        results["in_process_replies_per_s"] = round(in_process_rate(work, texts, min(seconds, 10.0)), 1)
        print(f"(b) in-process bot.reply: {results['in_process_replies_per_s']} replies/s", flush=True)

        echo = Served("benchmarks.webhook_load:echo_app", cwd=ROOT, log=work / "echo.log")
        try:
            bodies = [(f"echo{i}", whatsapp_body(f"echo{i}", f"wamid.echo{i}", texts[i % len(texts)])) for i in range(messages)]
            asyncio.run(post_all(f"{echo.url}/echo", bodies[:200], connections, sign=False))  # warm up
            posted, elapsed = asyncio.run(post_all(f"{echo.url}/echo", bodies, connections, sign=False))
        finally:
            echo.stop()
        results["echo"] = {"requests_per_s": round(len(posted) / elapsed, 1), "latency_ms": summary([p.ack_ms for p in posted])}
        print(f"(a) bare FastAPI echo: {results['echo']}", flush=True)

        stand_in = Served("benchmarks.webhook_load:serve_stand_in", cwd=ROOT, log=work / "stand_in.log", raw=True)
        env = {
            "BOTKIT_WHATSAPP_APP_SECRET": SECRET,
            "BOTKIT_VERIFY_TOKEN": "bench-verify",
            "BOTKIT_WHATSAPP_TOKEN": "bench-token",
            "BOTKIT_GRAPH_API_BASE": f"{stand_in.url}/v21.0",
            "BOTKIT_DATABASE_URL": f"sqlite:///{work / 'served.db'}",
            "BOTKIT_REPLY_WORKERS": str(reply_workers),
        }
        server = Served("app:create", cwd=exported, env=env, log=work / "served.log", workers=workers)
        try:
            url = f"{server.url}/webhook/whatsapp"
            warm = [(f"warm{i}", whatsapp_body(f"warm{i}", f"wamid.warm{i}", texts[i % len(texts)])) for i in range(50)]
            asyncio.run(post_all(url, warm, connections, sign=True))
            wait_for_replies(stand_in, server, {u for u, _ in warm}, timeout=120)

            burst = [(f"4915{i:09d}", whatsapp_body(f"4915{i:09d}", f"wamid.burst{i}", texts[i % len(texts)])) for i in range(messages)]
            posted, ack_elapsed = asyncio.run(post_all(url, burst, connections, sign=True))
            users = {p.user for p in posted}
            got = wait_for_replies(stand_in, server, users, timeout=max(120.0, messages / 5))
            done = max(at for u, at in got if u in users)
            span = done - min(p.started for p in posted)
            throughput = len(posted) / span
            results["ack"] = {
                "requests_per_s": round(len(posted) / ack_elapsed, 1),
                "latency_ms": summary([p.ack_ms for p in posted]),
                "non_200": sum(p.status != 200 for p in posted),
            }
            results["e2e_throughput_per_s"] = round(throughput, 1)
            results["burst_e2e_ms"] = summary(e2e_ms(posted, got))
            first = min(p.started for p in posted)
            timeline = [0] * (int(span) + 1)
            for user, at in got:
                if user in users:
                    timeline[int(at - first)] += 1
            results["burst_messages_recorded_per_second"] = timeline
            print(f"acknowledgement at {connections} connections: {results['ack']}", flush=True)
            print(f"sustained end-to-end throughput: {results['e2e_throughput_per_s']} replies/s", flush=True)

            rate = throughput / 2
            count = max(1, int(rate * seconds))
            paced = [(f"4916{i:09d}", whatsapp_body(f"4916{i:09d}", f"wamid.paced{i}", texts[i % len(texts)])) for i in range(count)]
            paced_posted, _ = asyncio.run(post_all(url, paced, connections, sign=True, rate=rate))
            paced_users = {p.user for p in paced_posted}
            got = wait_for_replies(stand_in, server, paced_users, timeout=120)
            results["paced_rate_per_s"] = round(rate, 1)
            results["paced_e2e_ms"] = summary(e2e_ms(paced_posted, got))
            results["paced_ack_ms"] = summary([p.ack_ms for p in paced_posted])
            print(f"end-to-end at {rate:.1f} messages/s: {results['paced_e2e_ms']}", flush=True)

            expected = outbox_counts(work / "served.db")
            lost, duplicated = check_delivery(got, expected, users | paced_users)
            results["lost"], results["duplicated"] = lost, duplicated
        finally:
            server.stop()
            stand_in.stop()
    results["throughput_ratio"] = round(results["e2e_throughput_per_s"] / results["in_process_replies_per_s"], 2)
    results["targets"] = {
        "ack_p99_ms<=20_burst_closed_loop": results["ack"]["latency_ms"]["p99"] <= TARGETS["ack_p99_ms"],
        "ack_p99_ms<=20_paced": results["paced_ack_ms"]["p99"] <= TARGETS["ack_p99_ms"],
        "throughput>=0.7x_in_process": results["throughput_ratio"] >= TARGETS["throughput_ratio"],
        "e2e_p99_ms<=100_at_half_rate": results["paced_e2e_ms"]["p99"] <= TARGETS["e2e_p99_ms"],
        "zero_lost_or_duplicated": results["lost"] == 0 and results["duplicated"] == 0 and results["ack"]["non_200"] == 0,
    }
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=2000, help="messages in the burst (default 2000)")
    parser.add_argument("--seconds", type=float, default=15.0, help="seconds of paced load at half the throughput")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--reply-workers", type=int, default=1, help="BOTKIT_REPLY_WORKERS of the served bot")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes of the served bot")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    results = run(args.messages, args.seconds, args.connections, args.reply_workers, args.workers)
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0 if all(results["targets"].values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
