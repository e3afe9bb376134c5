"""Scale-out benchmark: web and worker processes on one PostgreSQL database and a `chroma run` server.

Started here, on 127.0.0.1 only: a PostgreSQL server (Debian's binaries, a private Unix
socket), a Chroma server (`chroma run`, from chromadb), the send-API stand-in of
`benchmarks.webhook_load`, and for each configuration `--web` uvicorn processes of
`botkit serve`'s app with BOTKIT_WEB_REPLIES=0 plus `botkit worker` processes. This process
plays the platform: signed WhatsApp messages over 50 keep-alive connections.

Per configuration (1 web + 1 worker, 1 web + 2 workers, 2 web + 2 workers), on a fresh database:
- a burst of `--messages` posts flat out: acknowledged events/s and ack p50/p99;
- replies/s: burst messages / time from the first post until the last reply reached the stand-in;
- end-to-end p50/p99 (post -> last message of the reply) and ack p50/p99 paced at half that rate for `--seconds`;
- a second burst during which one worker process is SIGKILLed once a third of the replies
  arrived (with a single worker a replacement is started, as a supervisor would): lost and
  duplicated replies, checked against the outbox;
- the in-process `bot.reply` rate on the same PostgreSQL and Chroma server, measured in the
  same run, and the load average before and after.

Run: .venv/bin/python -m benchmarks.scaleout [--messages 600] [--seconds 8] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import glob
import json
import os
import platform
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, func, select, text

from benchmarks.webhook_load import (
    KNOWLEDGE,
    ROOT,
    SECRET,
    Served,
    check_delivery,
    e2e_ms,
    free_port,
    post_all,
    questions,
    records,
    reply_rate,
    summary,
    whatsapp_body,
)

CONFIGS = ((1, 1), (1, 2), (2, 2))  # (web processes, worker processes)
TARGETS = {"ack_p99_ms": 20.0, "throughput_ratio": 0.7}


@contextmanager
def postgres(folder: Path) -> Iterator[str]:
    """A PostgreSQL server on a Unix socket in `folder`; yields a URL template with `{database}`."""
    binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    if not binaries:
        raise SystemExit("PostgreSQL server binaries are missing: apt-get install postgresql")
    initdb, pg_ctl = f"{binaries[-1]}/initdb", f"{binaries[-1]}/pg_ctl"
    prefix: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        account = pwd.getpwnam("postgres")
        os.chown(folder, account.pw_uid, account.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    data = folder / "data"
    subprocess.run([*prefix, initdb, "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"], check=True, capture_output=True)
    options = f"-k {folder} -h '' -p 5432 -c max_connections=200"
    subprocess.run([*prefix, pg_ctl, "-D", str(data), "-o", options, "-w", "-l", str(folder / "log"), "start"], check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg://postgres@/{{database}}?host={folder}&port=5432"
    finally:
        subprocess.run([*prefix, pg_ctl, "-D", str(data), "-m", "fast", "stop"], check=True, capture_output=True)


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def new_database(base: str, name: str) -> str:
    admin = create_engine(base.format(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return base.format(database=name)


@contextmanager
def chroma(folder: Path, log: Path) -> Iterator[str]:
    """A `chroma run` server on 127.0.0.1; yields its URL."""
    port = free_port()
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [str(Path(sys.executable).parent / "chroma"), "run", "--path", str(folder), "--host", "127.0.0.1", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300  # tens of seconds on a busy machine
        while True:
            try:
                if httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError(f"chroma run did not start: {log.read_text()}")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


class Worker:
    """`python -m botkit worker` in its own process."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.log = log
        with open(log, "wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "botkit", "worker", str(KNOWLEDGE)], cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT
            )

    def wait_started(self) -> Worker:
        deadline = time.monotonic() + 300
        while "worker started" not in self.log.read_text(errors="replace"):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker did not start: {self.log.read_text(errors='replace')}")
            time.sleep(0.1)
        return self

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        self.proc.wait(timeout=60)


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (uvicorn's worker processes), from /proc."""
    children: dict[int, list[int]] = {}
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            fields = Path(stat).read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.split("/")[2]))
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        todo.extend(children.get(current, []))
        try:
            total += next(int(line.split()[1]) for line in Path(f"/proc/{current}/status").read_text().splitlines() if line.startswith("VmRSS:"))
        except (OSError, StopIteration):
            continue
    return round(total / 1024, 1)


def pending(url: str) -> dict[str, int]:
    from botkit.db import webhook_inbox, webhook_outbox

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {
                "inbox": conn.execute(select(func.count()).select_from(webhook_inbox).where(webhook_inbox.c.status == "pending")).scalar_one(),
                "outbox": conn.execute(
                    select(func.count()).select_from(webhook_outbox).where(webhook_outbox.c.status.in_(("pending", "sending")))
                ).scalar_one(),
            }
    finally:
        engine.dispose()


def outbox_counts(url: str) -> dict[str, int]:
    from botkit.db import webhook_outbox

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(webhook_outbox.c.user_id, func.count()).group_by(webhook_outbox.c.user_id)).all()
    finally:
        engine.dispose()
    return {user: int(n) for user, n in rows}


def storage(url: str) -> dict[str, Any]:
    """The database's size on disk and per table (with indexes), and the events it holds, for the paper estimate."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            tables = {
                name: int(size) for name, size in conn.execute(text("SELECT relname, pg_total_relation_size(relid) FROM pg_stat_user_tables ORDER BY 2 DESC"))
            }
            events = int(conn.execute(text("SELECT count(*) FROM webhook_inbox")).scalar_one())
            database = int(conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one())
    finally:
        engine.dispose()
    return {"events": events, "database_bytes": database, "table_bytes": tables, "bytes_per_event": round(sum(tables.values()) / max(1, events))}


def wait_for_replies(stand_in: Served, url: str, users: set[str], timeout: float) -> list[tuple[str, float]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pending(url) == {"inbox": 0, "outbox": 0}:
            got = records(stand_in)
            if users <= {u for u, _ in got}:
                return got
        time.sleep(0.1)
    raise RuntimeError(f"replies still missing after {timeout} s")


def in_process_rate(env: dict[str, str], texts: list[str], seconds: float) -> float:
    """`bot.reply` in a loop on the same PostgreSQL and Chroma server, new user per message."""
    from botkit import Settings

    return reply_rate(Settings.from_env(env), texts, seconds)


def burst(tag: str, n: int, texts: list[str]) -> list[tuple[str, bytes]]:
    return [(f"49{tag}{i:08d}", whatsapp_body(f"49{tag}{i:08d}", f"wamid.{tag}{i}", texts[i % len(texts)])) for i in range(n)]


def measure(
    webs: int, count: int, base_env: dict[str, str], stand_in: Served, work: Path, texts: list[str], messages: int, seconds: float, connections: int
) -> dict[str, Any]:
    name = f"w{webs}k{count}"
    url = new_database(base_env["BOTKIT_DATABASE_URL_BASE"], name)
    env = {k: v for k, v in base_env.items() if k != "BOTKIT_DATABASE_URL_BASE"} | {"BOTKIT_DATABASE_URL": url}
    result: dict[str, Any] = {"web": webs, "workers": count, "load_before": [round(x, 2) for x in os.getloadavg()]}
    web = Served(
        "botkit.webhook.entry:app_from_env",
        cwd=ROOT,
        log=work / f"{name}-web.log",
        workers=webs,
        env=env | {"BOTKIT_SERVE_KNOWLEDGE": str(KNOWLEDGE), "BOTKIT_WEB_REPLIES": "0"},
    )
    workers = [Worker(env, work / f"{name}-worker{n}.log") for n in range(count)]
    try:
        for worker in workers:
            worker.wait_started()
        hook = f"{web.url}/webhook/whatsapp"
        warm = burst(f"{webs}{count}0", 50, texts)
        asyncio.run(post_all(hook, warm, connections, sign=True))
        wait_for_replies(stand_in, url, {u for u, _ in warm}, timeout=300)

        posted, ack_elapsed = asyncio.run(post_all(hook, burst(f"{webs}{count}1", messages, texts), connections, sign=True))
        users = {p.user for p in posted}
        got = wait_for_replies(stand_in, url, users, timeout=600)
        span = max(at for u, at in got if u in users) - min(p.started for p in posted)
        result["acknowledged_per_s"] = round(len(posted) / ack_elapsed, 1)
        result["ack_ms"] = summary([p.ack_ms for p in posted])
        result["non_200"] = sum(p.status != 200 for p in posted)
        result["replies_per_s"] = round(len(posted) / span, 1)
        result["rss_mb"] = {"web": rss_mb(web.proc.pid), "workers": [rss_mb(w.proc.pid) for w in workers]}
        print(f"{name}: acknowledged {result['acknowledged_per_s']}/s, ack {result['ack_ms']}, replies {result['replies_per_s']}/s", flush=True)

        rate = result["replies_per_s"] / 2
        paced, _ = asyncio.run(post_all(hook, burst(f"{webs}{count}2", max(1, int(rate * seconds)), texts), connections, sign=True, rate=rate))
        paced_users = {p.user for p in paced}
        got = wait_for_replies(stand_in, url, paced_users, timeout=300)
        result["paced_rate_per_s"] = round(rate, 1)
        result["e2e_ms"] = summary(e2e_ms(paced, got))
        result["paced_ack_ms"] = summary([p.ack_ms for p in paced])
        print(f"{name}: end-to-end at {rate:.1f}/s {result['e2e_ms']}", flush=True)

        kill_burst = burst(f"{webs}{count}3", messages // 2, texts)
        kill_users = {u for u, _ in kill_burst}

        async def post_and_kill() -> list[Any]:
            task = asyncio.create_task(post_all(hook, kill_burst, connections, sign=True))
            while len({u for u, _ in records(stand_in)} & kill_users) < len(kill_users) // 3:
                await asyncio.sleep(0.05)
            workers[0].stop(signal.SIGKILL)
            if count == 1:  # nobody else would work: a supervisor starts a replacement
                workers.append(Worker(env, work / f"{name}-replacement.log"))
            return (await task)[0]

        killed_posted = asyncio.run(post_and_kill())
        got = wait_for_replies(stand_in, url, kill_users, timeout=300)
        lost, duplicated = check_delivery(got, outbox_counts(url), {p.user for p in killed_posted})
        resent = sum(w.log.read_text(errors="replace").count("may have sent already") for w in workers[1:])
        result["kill"] = {
            "messages": len(killed_posted),
            "lost": lost,
            "duplicated": duplicated,
            "resent_in_flight": resent,
            "non_200": sum(p.status != 200 for p in killed_posted),
        }
        print(f"{name}: SIGKILL of a worker mid-burst: {result['kill']}", flush=True)
        result["storage"] = storage(url)
    finally:
        for worker in workers:
            worker.stop()
        web.stop()
    result["load_after"] = [round(x, 2) for x in os.getloadavg()]
    return result


def run(messages: int, seconds: float, connections: int) -> dict[str, Any]:
    from botkit import Settings
    from botkit.knowledge import load_knowledge
    from botkit.wiring import build

    texts = questions()
    results: dict[str, Any] = {
        "messages": messages,
        "connections": connections,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "load_start": [round(x, 2) for x in os.getloadavg()],
    }
    # PostgreSQL's folder outside the 0700 temporary folder: the postgres user must reach it
    pg_folder = Path(tempfile.mkdtemp(prefix="botkit-bench-pg-"))
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        stand_in = Served("benchmarks.webhook_load:serve_stand_in", cwd=ROOT, log=work / "stand_in.log", raw=True)
        try:
            with postgres(pg_folder) as base, chroma(work / "chroma", work / "chroma.log") as chroma_url:
                env = {
                    "BOTKIT_WHATSAPP_APP_SECRET": SECRET,
                    "BOTKIT_VERIFY_TOKEN": "bench-verify",
                    "BOTKIT_WHATSAPP_TOKEN": "bench-token",
                    "BOTKIT_GRAPH_API_BASE": f"{stand_in.url}/v21.0",
                    "BOTKIT_CHROMA_URL": chroma_url,
                    "BOTKIT_INDEX_DIR": str(work / "index"),
                    "BOTKIT_LEASE_SECONDS": "5",
                    "BOTKIT_SEND_TIMEOUT": "2",
                    "PYTHONPATH": str(ROOT),
                    "OPENBLAS_NUM_THREADS": "1",
                    "OMP_NUM_THREADS": "1",
                }
                build(KNOWLEDGE, Settings.from_env(env | {"BOTKIT_DATABASE_URL": new_database(base, "build")}))
                results["index"] = {"entries": len(load_knowledge(KNOWLEDGE).entries), "chroma_bytes": folder_bytes(work / "chroma")}
                inproc_env = env | {"BOTKIT_DATABASE_URL": new_database(base, "inprocess")}
                results["in_process_replies_per_s"] = round(in_process_rate(inproc_env, texts, min(seconds, 8.0)), 1)
                print(f"in-process bot.reply on PostgreSQL + Chroma server: {results['in_process_replies_per_s']}/s", flush=True)
                results["configs"] = [
                    measure(webs, count, env | {"BOTKIT_DATABASE_URL_BASE": base}, stand_in, work, texts, messages, seconds, connections)
                    for webs, count in CONFIGS
                ]
        finally:
            stand_in.stop()
            shutil.rmtree(pg_folder, ignore_errors=True)
    cores = os.cpu_count() or 1
    for config in results["configs"]:
        expected = results["in_process_replies_per_s"] * min(config["workers"], cores)
        config["ratio_to_in_process_x_workers"] = round(config["replies_per_s"] / expected, 2)
        config["targets"] = {
            "ack_p99_ms<=20": config["ack_ms"]["p99"] <= TARGETS["ack_p99_ms"],
            "replies>=0.7x_in_process_x_workers": config["ratio_to_in_process_x_workers"] >= TARGETS["throughput_ratio"],
            "zero_lost_or_duplicated_across_sigkill": config["kill"]["lost"] == 0 and config["kill"]["duplicated"] == 0,
        }
    results["load_end"] = [round(x, 2) for x in os.getloadavg()]
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=600, help="messages per burst (default 600)")
    parser.add_argument("--seconds", type=float, default=8.0, help="seconds of paced load at half the reply rate")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    if shutil.which("runuser") is None and os.geteuid() == 0:
        raise SystemExit("running as root needs runuser to start PostgreSQL as the postgres user")
    results = run(args.messages, args.seconds, args.connections)
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0 if all(all(c["targets"].values()) for c in results["configs"]) else 1


if __name__ == "__main__":
    raise SystemExit(main())
