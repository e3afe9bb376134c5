"""Several processes write to one ledger at once: no event is lost, not even when one is killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from ledger_worker import CLIENT as WORKER_CLIENT
from ledger_worker import operation
from sqlalchemy import func, select, text

from botkit.consent import ConsentLedger
from botkit.db import consent_events, open_database

WORKER = Path(__file__).with_name("ledger_worker.py")
PROCESSES = 8
# Events per process: 8 x 1,000 on SQLite, as the issue asks. On PostgreSQL 8 x 250: every
# operation is a few round trips to a server whose 8 backends share the 2 CI cores with the
# 8 writers, so 1,000 would take about a minute; 250 still interleave the writers thoroughly.
OPS = {"sqlite": 1000, "postgresql": 250}


def start(url: str, worker: int, ops: int, go: Path, out: Path) -> subprocess.Popen:
    with out.open("w") as handle:
        return subprocess.Popen([sys.executable, str(WORKER), url, str(worker), str(ops), str(go)], stdout=handle, stderr=subprocess.PIPE, text=True)


def printed_ids(out: Path) -> list[int]:
    """Ids a worker printed after their commit; a line cut off by the kill has no newline and is ignored."""
    content = out.read_text()
    return [int(line) for line in content.split("\n")[:-1] if line]


@pytest.fixture
def engine(database_url):
    engine = open_database(database_url)  # creates the tables before the workers start
    yield engine
    engine.dispose()


def test_eight_processes_granting_and_withdrawing_at_once_lose_no_event(tmp_path, database_url, engine):
    url, ops = database_url, OPS[engine.dialect.name]
    go = tmp_path / "go"
    outs = [tmp_path / f"out{w}.txt" for w in range(PROCESSES)]
    workers = [start(url, w, ops, go, outs[w]) for w in range(PROCESSES)]
    go.touch()  # all workers wait for this file, so they really write at the same time
    for worker in workers:
        _, err = worker.communicate(timeout=180)
        assert worker.returncode == 0, err
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(consent_events)).scalar_one() == PROCESSES * ops
        per_user = dict(conn.execute(select(consent_events.c.user_id, func.count()).group_by(consent_events.c.user_id)).all())
    for w in range(PROCESSES):
        assert sum(n for user, n in per_user.items() if user.startswith(f"w{w}-")) == ops
        ids = printed_ids(outs[w])
        assert len(ids) == ops and len(set(ids)) == ops
    # The derived state of every (user, topic) is the last operation a worker did on it.
    expected = {}
    for w in range(PROCESSES):
        for i in range(ops):
            user, topic, state = operation(str(w), i)
            expected[(user, topic)] = state
    ledger = ConsentLedger(engine, WORKER_CLIENT)
    actual = {(e.user_id, e.topic): e.state for w in range(PROCESSES) for u in range(10) for e in ledger.states(f"w{w}-u{u}")}
    assert actual == expected


def test_a_process_killed_mid_run_loses_no_committed_event(tmp_path, database_url, engine):
    url = database_url
    go = tmp_path / "go"
    outs = [tmp_path / f"out{w}.txt" for w in range(4)]
    workers = [start(url, w, 0, go, outs[w]) for w in range(4)]  # 0: write until killed
    go.touch()
    deadline = time.monotonic() + 120
    while min(len(printed_ids(out)) for out in outs) < 200:
        assert time.monotonic() < deadline, "workers did not write"
        assert all(w.poll() is None for w in workers), "a worker died on its own"
        time.sleep(0.05)
    for worker in workers:
        os.kill(worker.pid, signal.SIGKILL)  # mid-transaction for some of them
    for worker in workers:
        worker.communicate(timeout=30)
        assert worker.returncode == -signal.SIGKILL
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            assert conn.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
        stored = {(i, u) for i, u in conn.execute(select(consent_events.c.id, consent_events.c.user_id))}
    stored_ids = {i for i, _ in stored}
    for w, out in enumerate(outs):
        ids = printed_ids(out)
        assert len(ids) >= 200
        assert set(ids) <= stored_ids, f"worker {w} reported events as committed that are gone"
        mine = {i for i, u in stored if u.startswith(f"w{w}-")}
        # Every event of this worker was reported, except at most the one committed just before the kill.
        assert set(ids) <= mine and len(mine) - len(ids) in (0, 1)
