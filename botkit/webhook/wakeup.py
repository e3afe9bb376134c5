"""Wake idle workers when new events are saved: PostgreSQL LISTEN/NOTIFY in a thread of its own.

`WebhookQueue.accept` sends `NOTIFY botkit_inbox` in the transaction that saves events, so
the notification arrives when they are committed, in every process that listens (web
processes of other machines, `botkit handovers reply`, the agent API). SQLite has no
such channel: workers there poll the inbox every `wake_poll_seconds`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import psycopg
from sqlalchemy import Engine

from botkit.webhook.logs import log
from botkit.webhook.outbox import INBOX_CHANNEL

RECONNECT_SECONDS = 1.0  # after the database went away
LISTEN_TIMEOUT = 0.5  # how long one wait for notifications lasts, i.e. how soon `close` returns


class InboxListener:
    """Calls `wake` (from its own thread) whenever events were saved on `engine`'s PostgreSQL database."""

    def __init__(self, engine: Engine, wake: Callable[[], None]) -> None:
        if engine.dialect.name != "postgresql":
            raise ValueError("LISTEN/NOTIFY needs PostgreSQL")
        self._conninfo = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._wake = wake
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="botkit-inbox-listener", daemon=True)

    def start(self) -> InboxListener:
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop listening; returns within `LISTEN_TIMEOUT` seconds."""
        self._stop.set()
        self._thread.join()

    def __enter__(self) -> InboxListener:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._conninfo, autocommit=True) as conn:
                    conn.execute(f"LISTEN {INBOX_CHANNEL}")
                    self._wake()  # events may have been saved while nobody listened
                    while not self._stop.is_set():
                        if list(conn.notifies(timeout=LISTEN_TIMEOUT, stop_after=1)):
                            self._wake()
            except psycopg.Error as exc:
                log.warning("listening for new webhook events failed (%s); polling until it works again", type(exc).__name__)
                self._stop.wait(RECONNECT_SECONDS)
