"""A separate process that writes consent events, for the concurrency tests (not a test module).

Usage: python ledger_worker.py DATABASE_URL WORKER OPS GO_FILE

Waits until GO_FILE exists (so all workers start writing at once), then alternates grants
and withdrawals over ten users and two topics, printing each event id only after its
transaction committed. OPS=0 means: write until killed.
"""

from __future__ import annotations

import itertools
import sys
import time
from pathlib import Path

from botkit.consent.ledger import ConsentLedger
from botkit.db import open_database
from botkit.types import Client, Topic

TOPICS = ("t1", "t2")
CLIENT = Client(name="Test", topics=tuple(Topic(t, {"en": t}, {"en": t}, "v1") for t in TOPICS))


def operation(worker: str, i: int) -> tuple[str, str, str]:
    """The i-th operation of a worker: (user, topic, "granted" or "withdrawn")."""
    return f"w{worker}-u{i % 10}", TOPICS[(i // 10) % 2], "granted" if (i // 20) % 2 == 0 else "withdrawn"


def main(url: str, worker: str, ops: int, go_file: str) -> None:
    ledger = ConsentLedger(open_database(url), CLIENT)
    while not Path(go_file).exists():
        time.sleep(0.01)
    for i in range(ops) if ops else itertools.count():
        user, topic, state = operation(worker, i)
        if state == "granted":
            event = ledger.grant(user, "whatsapp", topic, evidence=f"op {i}")
        else:
            event = ledger.withdraw(user, "whatsapp", topic, evidence=f"op {i}")
        print(event.id, flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4])
