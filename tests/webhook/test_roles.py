"""Web and worker roles: one web app (uvicorn on 127.0.0.1) and `botkit worker` processes on one database.

The web only verifies, saves and acknowledges; the worker processes (real subprocesses,
woken by PostgreSQL NOTIFY or polling SQLite) reply and send to the send-API stand-in.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, select

from botkit import Settings, open_bot
from botkit.db import webhook_inbox, webhook_outbox
from botkit.webhook import create_app
from tests.conftest import ROOT, SAMPLE, new_postgres_database
from tests.webhook.conftest import webhook_settings
from tests.webhook.support import (
    WHATSAPP_SECRET,
    SendApi,
    ServerThread,
    free_port,
    is_message,
    process_env,
    recipient,
    signed,
    wait_for,
    whatsapp_body,
)

QUESTIONS = ["Wie melde ich meinen Zählerstand?", "Wann kommt meine Jahresabrechnung?", "Kann ich meinen Abschlag ändern?"]


def worker_env(api_url: str, database_url: str, index_dir: Path, **extra: str) -> dict[str, str]:
    env = process_env(
        api_url,
        database_url,
        BOTKIT_INDEX_DIR=str(index_dir),
        BOTKIT_LEASE_SECONDS="2",
        BOTKIT_POLL_SECONDS="0.2",
        BOTKIT_RETRY_INITIAL_WAIT="0.01",
        BOTKIT_RETRY_MAX_WAIT="0.05",
        BOTKIT_RETRY_LATER_SECONDS="0.5",
        BOTKIT_SEND_TIMEOUT="1",
    )
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))  # this checkout's botkit
    env.update(extra)
    return env


class WorkerProcess:
    """`python -m botkit worker` in its own process, logging to a file."""

    def __init__(self, env: dict[str, str], cwd: Path, log: Path, *args: str) -> None:
        self.log = log
        with open(log, "wb") as out:
            command = [sys.executable, "-m", "botkit", "worker", str(SAMPLE), *args]
            self.proc = subprocess.Popen(command, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_started(self, timeout: float = 120) -> None:
        wait_for(lambda: "worker started" in self.text() or self.proc.poll() is not None, timeout, "a worker to start")
        assert self.proc.poll() is None, self.text()

    def replies(self) -> int:
        return self.text().count(" reply to ")

    def metrics(self) -> dict[str, float]:
        """This worker's /metrics (served with `--metrics-port 0`; the log names the port): sample name with labels -> value."""
        address = re.search(r"worker metrics at (http://\S+)", self.text())
        assert address, self.text()
        samples = {}
        for family in text_string_to_metric_families(httpx.get(address.group(1)).text):
            for sample in family.samples:
                labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
                samples[f"{sample.name}{{{labels}}}"] = sample.value
        return samples

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        self.proc.wait(timeout=60)


def rows(database_url: str, table) -> list:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(select(table).order_by(table.c.id)).mappings().all())
    finally:
        engine.dispose()


class Cluster:
    """A web-only app on uvicorn and two `botkit worker` processes on one PostgreSQL database, shared by this module."""

    def __init__(self, web: ServerThread, url: str, env: dict[str, str], folder: Path) -> None:
        self.web, self.url, self.env, self.folder = web, url, env, folder
        self.started = 0
        self.workers = [self.spawn(), self.spawn()]

    def spawn(self) -> WorkerProcess:
        self.started += 1
        return WorkerProcess(self.env, self.folder, self.folder / f"worker{self.started}.log", "--metrics-port", "0")

    def ready(self) -> list[WorkerProcess]:
        """Two live workers (a killed one is replaced), each started."""
        self.workers = [w if w.proc.poll() is None else self.spawn() for w in self.workers]
        for worker in self.workers:
            worker.wait_started()
        return self.workers


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, sample_index_dir, embedder, send_api: SendApi, postgres_server) -> Iterator[Cluster]:
    folder = tmp_path_factory.mktemp("roles")
    index = folder / "index"
    shutil.copytree(sample_index_dir, index)
    url = new_postgres_database(postgres_server, "roles")
    bot = open_bot(SAMPLE, Settings(index_dir=index, database_url=url), embedder=embedder)
    web = ServerThread(create_app(bot, webhook_settings(send_api.url, web_replies=False))).start()  # type: ignore[attr-defined]
    cluster = Cluster(web, url, worker_env(send_api.url, url, index), folder)  # type: ignore[attr-defined]
    try:
        yield cluster
    finally:
        for worker in cluster.workers:
            worker.stop()
        web.stop()
        bot.close()


@pytest.fixture
def roles(cluster: Cluster, recorder: SendApi) -> tuple[ServerThread, list[WorkerProcess], str]:
    """The web, two started workers and the database URL; each test uses users of its own."""
    return cluster.web, cluster.ready(), cluster.url


def users(prefix: str, count: int = 8) -> list[str]:
    return [f"49{prefix}{n:04d}" for n in range(count)]


def post_conversations(web: ServerThread, people: list[str], rounds: int) -> None:
    """`rounds` messages from each user, interleaved across users, each acknowledged with 200."""
    with httpx.Client(base_url=web.url) as client:
        for n in range(rounds):
            for user in people:
                body = whatsapp_body(user, f"wamid.{user}.{n}", QUESTIONS[n % len(QUESTIONS)])
                answer = client.post("/webhook/whatsapp", content=body, headers=signed(body, WHATSAPP_SECRET))
                assert answer.json() == {"accepted": 1, "duplicates": 0, "ignored": 0}


def wait_idle(web: ServerThread, timeout: float = 90) -> None:
    wait_for(lambda: httpx.get(f"{web.url}/healthz").json()["pending"] == {"inbox": 0, "outbox": 0}, timeout, "an empty queue")


def delivered_vs_queued(recorder: SendApi, url: str, people: list[str]) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Per user: the message bodies the stand-in received, in arrival order, and the sends the outbox holds, in order."""
    got: dict[str, list[str]] = {}
    for record in recorder.delivered(lambda r: is_message(r) and recipient(r) in people):
        got.setdefault(recipient(record), []).append(json.dumps(record.body, sort_keys=True))
    queued: dict[str, list[str]] = {}
    for row in sorted(rows(url, webhook_outbox), key=lambda r: (r["inbox_id"], r["seq"])):
        if row["path"].endswith("/messages") and row["user_id"] in people:
            queued.setdefault(row["user_id"], []).append(json.dumps(json.loads(row["body"]), sort_keys=True))
    return got, queued


def test_a_web_and_two_worker_processes_answer_every_event_once_in_order_on_postgresql(roles, recorder):
    web, workers, url = roles
    people, before = users("1510"), [w.replies() for w in workers]
    post_conversations(web, people, rounds=3)
    wait_idle(web)
    inbox = [r for r in rows(url, webhook_inbox) if r["user_id"] in people]
    assert len(inbox) == 3 * len(people) and {r["status"] for r in inbox} == {"done"}
    for user in people:  # within a conversation, each event was done after the one before it
        done = [r["done_at"] for r in inbox if r["user_id"] == user]
        assert done == sorted(done)
    got, queued = delivered_vs_queued(recorder, url, people)
    assert got == queued and set(got) == set(people)  # every send exactly once, in the conversation's order
    replies = [w.replies() - b for w, b in zip(workers, before)]
    # both workers replied, each event once, and none was answered by the web process (its replies are not in these logs)
    assert sum(replies) == len(inbox) and all(replies), replies


def test_worker_processes_serve_their_replies_and_sends_in_metrics(roles, recorder):
    web, workers, url = roles
    people = users("1530", count=4)
    before = [w.metrics() for w in workers]
    post_conversations(web, people, rounds=2)
    wait_idle(web)
    after = [w.metrics() for w in workers]

    def delta(prefix: str) -> float:
        return sum(v - b.get(k, 0.0) for a, b in zip(after, before) for k, v in a.items() if k.startswith(prefix))

    assert delta("botkit_replies_total{") == 2 * len(people)  # every reply counted once, by the worker that made it
    sent = len(recorder.delivered(lambda r: is_message(r) and recipient(r) in people))
    assert sent > 0 and delta("botkit_sends_total{platform=whatsapp,status=sent}") >= sent
    assert delta("botkit_reply_seconds_count{") == 2 * len(people)
    assert all("botkit_queue_depth{queue=inbox}" in a for a in after)  # the database gauges too


def test_a_worker_killed_mid_run_loses_and_duplicates_nothing(roles, recorder):
    web, (doomed, survivor), url = roles
    people, busy, resent_before = users("1520"), doomed.replies() + 2, survivor.text().count("may have sent already")
    recorder.delay = 0.02  # sends take a moment, so the kill lands while work is in flight
    post_conversations(web, people, rounds=3)
    wait_for(lambda: doomed.replies() >= busy, 60, "the first worker to be busy")
    doomed.stop(signal.SIGKILL)
    wait_idle(web)
    inbox = [r for r in rows(url, webhook_inbox) if r["user_id"] in people]
    assert len(inbox) == 3 * len(people) and {r["status"] for r in inbox} == {"done"} and all(r["attempts"] == 0 for r in inbox)
    got, queued = delivered_vs_queued(recorder, url, people)
    resent = survivor.text().count("may have sent already") - resent_before  # documented: a send cut off in its HTTP call goes again
    extra = sum(len(got.get(u, [])) - len(q) for u, q in queued.items())
    # only resent sends can arrive twice; one cut off before its request reached the platform arrives once
    assert 0 <= extra <= resent
    for user, sends in queued.items():  # nothing lost, in order (a resent message follows its first copy)
        assert list(dict.fromkeys(got[user])) == list(dict.fromkeys(sends))


WEB_ONLY = """
import json, sys
from pathlib import Path
from fastapi.testclient import TestClient
from botkit import wiring
from botkit.webhook.entry import app_for_knowledge
from tests.webhook.support import WHATSAPP_SECRET, signed, whatsapp_body

body = whatsapp_body("4915188888888", "wamid.webonly", "Hallo")
with TestClient(app_for_knowledge(Path(sys.argv[1]), None)) as client:
    answer = client.post("/webhook/whatsapp", content=body, headers=signed(body, WHATSAPP_SECRET)).json()
print(json.dumps({"answer": answer, "embedders": sorted(wiring._EMBEDDERS), "modules": [m for m in sys.modules if "embedder" in m]}))
"""


def test_a_web_process_that_does_not_reply_saves_events_without_loading_an_embedder(tmp_path, recorder):
    database = f"sqlite:///{tmp_path / 'web.db'}"
    env = worker_env(recorder.url, database, tmp_path / "no-index", BOTKIT_WEB_REPLIES="0")
    done = subprocess.run([sys.executable, "-c", WEB_ONLY, str(SAMPLE)], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen == {"answer": {"accepted": 1, "duplicates": 0, "ignored": 0}, "embedders": [], "modules": []}
    assert [r["status"] for r in rows(database, webhook_inbox)] == ["pending"]  # saved for a worker
    assert not (tmp_path / "no-index").exists()  # no index was built or opened


def test_serve_with_workers_spawns_them_and_stops_them_on_exit(tmp_path, settings, recorder):
    port, metrics = free_port(), free_port()  # the workers' metrics on `metrics` and the port after it
    database = f"sqlite:///{tmp_path / 'serve.db'}"
    env = worker_env(recorder.url, database, settings.index_dir)  # type: ignore[attr-defined]
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        serve = subprocess.Popen(
            [sys.executable, "-m", "botkit", "serve", str(SAMPLE), "--port", str(port), "--workers", "2", "--worker-metrics-port", str(metrics)],
            env=env,
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for(lambda: serve.poll() is not None or len(children(serve.pid)) == 2, 60, "two worker processes")
        pids = children(serve.pid)
        assert all("worker" in command for command in pids.values()), pids
        wait_for(lambda: serve.poll() is not None or _healthy(port), 120, "the web to listen")
        body = whatsapp_body("4915177777777", "wamid.serve1", QUESTIONS[0])
        answer = httpx.post(f"http://127.0.0.1:{port}/webhook/whatsapp", content=body, headers=signed(body, WHATSAPP_SECRET))
        assert answer.status_code == 200
        assert recorder.wait_for(2, lambda r: is_message(r) and recipient(r) == "4915177777777", timeout=120)
        wait_for(lambda: _replies_counted(metrics) + _replies_counted(metrics + 1) >= 1, 30, "the reply in a worker's /metrics")
        assert min(_replies_counted(metrics), _replies_counted(metrics + 1)) >= 0  # both workers serve /metrics
    finally:
        serve.send_signal(signal.SIGTERM)
        serve.wait(timeout=90)
    gone = [pid for pid in pids if ") Z " in _stat(pid)]
    assert sorted(gone) == sorted(pids), log.read_text()


def _replies_counted(port: int) -> float:
    """The replies a worker's /metrics counts, -1 while it does not answer."""
    try:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    except httpx.HTTPError:
        return -1
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith("botkit_replies_total{"))


def children(pid: int) -> dict[int, str]:
    """The live child processes of `pid` and their command lines (from /proc)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found[int(entry.name)] = command
    return found


def _stat(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text()
    except OSError:  # reaped
        return ") Z "


def _healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def test_saving_events_wakes_listening_workers_on_postgresql(postgres_server):
    from botkit.db import open_database
    from botkit.webhook.outbox import WebhookQueue
    from botkit.webhook.parse import parse
    from botkit.webhook.wakeup import InboxListener

    engine = open_database(new_postgres_database(postgres_server, "notify"))
    woken = threading.Event()
    try:
        queue = WebhookQueue(engine)
        with InboxListener(engine, woken.set):
            assert woken.wait(10)  # once on connecting: events may have come while nobody listened
            woken.clear()
            assert queue.accept(parse("whatsapp", whatsapp_body("4915100000001", "wamid.n1", "Hallo")), time.time()) == (1, 0)
            assert woken.wait(10)
            woken.clear()
            queue.accept(parse("whatsapp", whatsapp_body("4915100000001", "wamid.n1", "Hallo")), time.time())  # a redelivery
            assert not woken.wait(1.0)  # saved nothing, so nobody is woken
    finally:
        engine.dispose()
