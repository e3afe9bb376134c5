"""Shared fixtures: the sample knowledge base, a built index, a bot on a fresh database, PostgreSQL; hypothesis profiles.

Storage tests take `database_url`, which runs them on a SQLite file and on a PostgreSQL
server started once per session from Debian's `postgresql` package (`.ci/run` installs it).
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

# One BLAS thread, set before numpy loads (subprocesses and notebook kernels inherit it): on a shared
# 2-core machine OpenBLAS's thread pool makes matrix work many times slower (a 512x512 eigendecomposition
# took 3.6 s with its default threads and 0.14 s with one, measured here).
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")
# pytest-xdist workers start with COLUMNS=80 and LINES=24 set: a rich console made at import (botkit.cli's)
# would keep that width for good. Tests that need a width pass COLUMNS to the command they run.
for _variable in ("COLUMNS", "LINES"):
    os.environ.pop(_variable, None)
# Where PYTHONDONTWRITEBYTECODE is set (this machine's image sets it), each xdist worker would rewrite the
# assertions of some 600 modules and each server, worker and kernel the tests start would compile botkit
# from source again: write the caches (about 5 s of CPU per worker and 0.3 s per subprocess, measured here).
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
sys.dont_write_bytecode = False

import pytest  # noqa: E402
from filelock import FileLock  # noqa: E402
from hypothesis import settings as hypothesis_settings  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from botkit import Settings, open_bot  # noqa: E402
from botkit.testing import FakeEmbedder, ManualClock  # noqa: E402
from botkit.wiring import default_embedder  # noqa: E402

# Property tests run light by default; .ci/run also runs the pure ones with HYPOTHESIS_PROFILE=thorough.
# No deadline: on a busy shared machine one example can take long for reasons of its own.
hypothesis_settings.register_profile("light", max_examples=50, deadline=None)
hypothesis_settings.register_profile("thorough", max_examples=1000, deadline=None)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "light"))

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "knowledge"
SHARED_DATASETS = ROOT.parent / "shared" / "datasets"

# The longest files, longest first. They are handed out first (`--dist loadfile --no-loadscope-reorder` in
# pyproject.toml) so that the xdist workers finish together, not one waiting for a long file started last.
LONGEST_FILES = (  # by share of the summed wall time in two full runs (`-p` a per-test timer, 2026-12-01)
    "tests/consent/test_campaign_jobs.py",
    "tests/webhook/test_roles.py",
    "tests/webhook/test_webhook_http.py",
    "tests/consent/test_campaign_shared.py",
    "tests/webhook/test_webhook_restart.py",
    "tests/workbench/test_workbench_lab.py",
    "tests/workbench/test_workbench_notebooks.py",
    "tests/consent/test_concurrency.py",
    "tests/webhook/test_webhook_outbox.py",
    "tests/test_index.py",
    "tests/evaluation/test_eval_cli.py",
    "evaluations/evaluate-sample.ipynb",
    "tests/webhook/test_agent_api.py",
    "evaluations/tune-threshold.ipynb",
    "tests/webhook/test_metrics.py",
    "tests/webhook/test_crash_matrix.py",
    "tests/test_stranded.py",
    "tests/evaluation/test_regression_bite.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Put the tests of `LONGEST_FILES` first, in that order; the rest keep their order."""
    rank = {name: n for n, name in enumerate(LONGEST_FILES)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))


@pytest.fixture(scope="session")
def embedder():
    """The real multilingual USE embedder: for retrieval, evaluation and end-to-end tests."""
    return default_embedder()


@pytest.fixture(scope="session")
def fake_embedder() -> FakeEmbedder:
    """An instant, deterministic embedder for tests that need a working bot, not retrieval quality."""
    return FakeEmbedder()


@pytest.fixture(scope="session")
def sample_index_dir(tmp_path_factory, worker_id, embedder) -> Path:
    """The sample knowledge base's index, built once per test run (about 5 s of CPU: USE embeds every phrasing)."""

    def build(folder: Path) -> None:
        open_bot(SAMPLE, Settings(index_dir=folder, database_url="sqlite://"), embedder=embedder).close()

    return built_once(tmp_path_factory, worker_id, "sample-index", build)


def built_once(tmp_path_factory: pytest.TempPathFactory, worker_id: str, name: str, build: Callable[[Path], object]) -> Path:
    """A folder `build` fills once per test run; each xdist worker gets a private copy of it.

    The first worker to ask builds it in the run's shared temporary folder (under a lock); the others wait
    and copy it. Without xdist (`-n 0`) it is built in place.
    """
    folder = tmp_path_factory.mktemp(name)
    if worker_id == "master":
        build(folder)
        return folder
    shared = tmp_path_factory.getbasetemp().parent / name  # the run's folder, above each worker's own
    with FileLock(f"{shared}.lock"):
        if not shared.exists():
            building = shared.with_name(f"{name}.building")
            shutil.rmtree(building, ignore_errors=True)  # left by a worker killed while building
            building.mkdir()
            build(building)
            building.rename(shared)  # complete or absent
    shutil.copytree(shared, folder, dirs_exist_ok=True)
    return folder


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def settings(tmp_path, sample_index_dir) -> Settings:
    """Settings on a private copy of the sample index and a fresh SQLite file."""
    index_dir = tmp_path / "index"
    shutil.copytree(sample_index_dir, index_dir)
    return Settings(index_dir=index_dir, database_url=f"sqlite:///{tmp_path / 'botkit.db'}")


@pytest.fixture
def bot(settings, embedder, clock):
    bot = open_bot(SAMPLE, settings, embedder=embedder, clock=clock)
    yield bot
    bot.close()


@pytest.fixture
def kb_copy(tmp_path) -> Path:
    """A writable copy of the sample knowledge base."""
    target = tmp_path / "knowledge"
    shutil.copytree(SAMPLE, target, ignore=shutil.ignore_patterns(".botkit*"))
    return target


_DATABASES = itertools.count()


def _pg_binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The base URL of a PostgreSQL server started for this session on a private Unix socket.

    Skipped where the server binaries or the psycopg driver are missing.
    """
    pytest.importorskip("psycopg", reason="the psycopg driver is not installed (pip install 'botkit[server]')")
    initdb, pg_ctl = _pg_binary("initdb"), _pg_binary("pg_ctl")
    if initdb is None or pg_ctl is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed: apt-get install postgresql")
    prefix: list[str] = []
    folder = tempfile.mkdtemp(prefix="botkit-pg-")  # not under pytest's 0700 tmp dir: the server user must reach it
    if os.geteuid() == 0:
        # PostgreSQL refuses to run as root; run it as the `postgres` user that the packages create.
        try:
            account = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no 'postgres' user to run the server as")
        os.chown(folder, account.pw_uid, account.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    data = os.path.join(folder, "data")
    try:
        subprocess.run([*prefix, initdb, "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"], check=True, capture_output=True, timeout=120)
        # No TCP listener (-h ''): the socket in our own folder cannot clash with another server.
        options = f"-k {folder} -h '' -p 5432 -F"
        # If this test run is killed (e.g. by `timeout`), no teardown runs: a watchdog, started
        # before the server, stops it and removes its folder once this process is gone (after a
        # pause, in case the kill came while the server was still starting).
        stop = " ".join(shlex.quote(a) for a in [*prefix, pg_ctl, "-D", data, "-m", "immediate", "stop"])
        watchdog = f"while kill -0 {os.getpid()} 2>/dev/null; do sleep 1; done; sleep 3; {stop}; rm -rf {shlex.quote(folder)}"
        subprocess.run(["sh", "-c", f"({watchdog}) >/dev/null 2>&1 &"], check=True, start_new_session=True, timeout=30)
        subprocess.run(
            [*prefix, pg_ctl, "-D", data, "-o", options, "-w", "-l", os.path.join(folder, "log"), "start"], check=True, capture_output=True, timeout=120
        )
        yield f"postgresql+psycopg://postgres@/{{database}}?host={folder}&port=5432"
        subprocess.run([*prefix, pg_ctl, "-D", data, "-m", "immediate", "stop"], check=True, capture_output=True, timeout=120)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    """A fresh, empty database: a SQLite file, or a new database on the session's PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'botkit.db'}"
    return new_postgres_database(request.getfixturevalue("postgres_server"), "botkit")


def new_postgres_database(base: str, prefix: str) -> str:
    """Create an empty database on the session's PostgreSQL server (`base` from `postgres_server`); its URL."""
    name = f"{prefix}_{os.getpid()}_{next(_DATABASES)}"
    admin = create_engine(base.format(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return base.format(database=name)
