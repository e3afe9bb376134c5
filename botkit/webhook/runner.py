"""The worker role: a process that replies to the events web processes saved, and `serve --workers N`'s children.

Web processes (`botkit serve`) verify, save and acknowledge; worker processes (`botkit
worker`) claim the saved events, run the bot, send, sweep leftovers and purge old rows.
Any number of each share one database. On PostgreSQL idle workers are woken by NOTIFY
(`botkit.webhook.wakeup`); on SQLite they poll every `wake_poll_seconds`.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import httpx
from prometheus_client import start_http_server

from botkit.bot import Bot
from botkit.errors import ConfigError
from botkit.retention import RetentionPolicy
from botkit.webhook.logs import SecretScrubber, guard_logs, log
from botkit.webhook.metrics import Metrics
from botkit.webhook.outbox import WebhookQueue
from botkit.webhook.sender import Sender
from botkit.webhook.settings import WebhookSettings, load_settings
from botkit.webhook.worker import Worker
from botkit.webhook.writer import GroupWriter, unflushed_engine

STOP_SECONDS = 30.0  # how long `WorkerProcesses.stop` waits for a worker to give back its leases
WORKER_REPLY_LOOPS = 2  # a worker process's reply loops: one replies while the other waits for the database


def process_owner() -> str:
    """A name for this process in leases: host, pid and a random part (pids are reused)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@asynccontextmanager
async def open_worker(
    bot: Bot,
    settings: WebhookSettings,
    *,
    scrubber: SecretScrubber,
    clock: Callable[[], float] = time.time,
    owner: str | None = None,
    client: httpx.AsyncClient | None = None,
    retention: RetentionPolicy | None = None,
    metrics: Metrics | None = None,
    idle_poll: float | None = None,
    reply_loops: int = 1,
) -> AsyncIterator[Worker]:
    """A started `Worker` inside the running event loop; stopped (leases given back) on exit.

    Args:
        client: the HTTP client for the send APIs; by default one is opened and closed here.
        reply_loops: concurrent reply loops unless `settings.reply_workers` (BOTKIT_REPLY_WORKERS) says otherwise.
    """
    http = client or httpx.AsyncClient(limits=httpx.Limits(max_connections=64))
    marks = GroupWriter(bot.store.engine)  # send results: many deliveries share a commit
    unflushed = unflushed_engine(bot.store.engine)  # claims and finishes: redone after a database crash
    worker = Worker(
        bot,
        WebhookQueue(bot.store.engine, unflushed),
        marks,
        Sender(http, settings, scrubber),
        settings,
        clock=clock,
        owner=owner or process_owner(),
        retention=retention,
        metrics=metrics,
        idle_poll=idle_poll,
        reply_loops=reply_loops,
    )
    worker.start()
    try:
        yield worker
    finally:
        await worker.stop()
        if unflushed is not bot.store.engine:
            unflushed.dispose()
        if client is None:
            await http.aclose()


async def serve_worker(
    bot: Bot,
    settings: WebhookSettings,
    stop: asyncio.Event,
    *,
    clock: Callable[[], float] = time.time,
    client: httpx.AsyncClient | None = None,
    retention: RetentionPolicy | None = None,
    metrics_address: tuple[str, int] | None = None,
) -> None:
    """Claim, reply and send until `stop` is set; then give back the leases.

    Args:
        metrics_address: (host, port) where this worker serves its `/metrics`; None: nowhere.

    Raises:
        ConfigError: secrets are missing, or the metrics port cannot be bound.
    """
    settings.platforms()  # fail on missing secrets, as `botkit serve` does
    sqlite = bot.store.engine.dialect.name == "sqlite"
    idle = settings.wake_poll_seconds if sqlite else settings.poll_seconds
    scrubber = guard_logs(settings.secrets())
    metrics = Metrics(bot.store.engine, clock)
    with metrics_endpoint(metrics, metrics_address):
        async with open_worker(
            bot, settings, scrubber=scrubber, clock=clock, client=client, retention=retention, metrics=metrics, idle_poll=idle, reply_loops=WORKER_REPLY_LOOPS
        ):
            log.info("worker started on %s (%s)", bot.store.engine.dialect.name, "short poll" if sqlite else "LISTEN/NOTIFY")
            await stop.wait()
    log.info("worker stopped")


@contextmanager
def metrics_endpoint(metrics: Metrics, address: tuple[str, int] | None) -> Iterator[None]:
    """Serve `metrics` at http://host:port/metrics (prometheus-client's server, in a thread) while inside; nothing for None."""
    if address is None:
        yield
        return
    host, port = address
    try:
        server, thread = start_http_server(port, addr=host, registry=metrics.registry)
    except OSError as exc:
        raise ConfigError(f"cannot serve worker metrics at {host}:{port}: {exc.strerror or exc}") from exc
    log.info("worker metrics at http://%s:%d/metrics", host, server.server_port)
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def run_worker(knowledge: Path, env_file: Path | None = Path(".env"), metrics_address: tuple[str, int] | None = None) -> None:
    """Open the bot of `knowledge` (settings from the environment and `env_file`) and work until SIGTERM or SIGINT.

    Args:
        metrics_address: (host, port) of this worker's `/metrics`; None: not served.
    """
    from botkit.wiring import open_bot

    settings, webhook = load_settings(env_file)
    webhook.platforms()  # fail on missing secrets before loading the embedder
    retention = RetentionPolicy.parse(settings.retention_days)
    bot = open_bot(knowledge, settings)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await serve_worker(bot, webhook, stop, retention=retention, metrics_address=metrics_address)

    try:
        asyncio.run(main())
    finally:
        bot.store.engine.dispose()


class WorkerProcesses:
    """`botkit worker` child processes of `botkit serve --workers N`: started, restarted when one dies, stopped.

    Use as a context manager around the web server. With `metrics_port`, worker n (from 0) serves its
    /metrics on that port + n, and a replacement on the same port.
    """

    def __init__(self, count: int, args: Sequence[str], *, metrics_port: int | None = None, check_seconds: float = 1.0) -> None:
        self._command = [sys.executable, "-m", "botkit", "worker", *args]
        self._metrics_port = metrics_port
        self._count = count
        self._check = check_seconds
        self._procs: list[subprocess.Popen[bytes]] = []
        self._stopping = threading.Event()
        self._watcher = threading.Thread(target=self._watch, name="botkit-worker-watch", daemon=True)

    @property
    def pids(self) -> list[int]:
        """The process ids of the running workers."""
        return [p.pid for p in self._procs]

    def __enter__(self) -> WorkerProcesses:
        self._procs = [self._spawn(n) for n in range(self._count)]
        self._watcher.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def stop(self) -> None:
        """SIGTERM every worker (they give back their leases), then SIGKILL whoever is still there after STOP_SECONDS."""
        self._stopping.set()
        if self._watcher.is_alive():
            self._watcher.join()
        for proc in self._procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self._procs:
            try:
                proc.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def _spawn(self, n: int) -> subprocess.Popen[bytes]:
        metrics = [] if self._metrics_port is None else ["--metrics-port", str(self._metrics_port + n)]
        # Its own process group: a Ctrl-C in the terminal reaches `serve`, which then stops its workers in order.
        return subprocess.Popen([*self._command, *metrics], start_new_session=True)

    def _watch(self) -> None:
        while not self._stopping.wait(self._check):
            for n, proc in enumerate(self._procs):
                if proc.poll() is not None and not self._stopping.is_set():
                    log.warning("worker process %d exited with %s; starting another", proc.pid, proc.returncode)
                    self._procs[n] = self._spawn(n)
