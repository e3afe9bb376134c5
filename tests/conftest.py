"""Shared fixtures: the sample knowledge base, a built index, a bot on a fresh database; hypothesis profiles."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

# One BLAS thread, set before numpy loads (subprocesses and notebook kernels inherit it): on a shared
# 2-core machine OpenBLAS's thread pool makes matrix work many times slower (a 512x512 eigendecomposition
# took 3.6 s with its default threads and 0.14 s with one, measured here).
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import pytest  # noqa: E402
from hypothesis import settings as hypothesis_settings  # noqa: E402

from botkit import Settings, open_bot  # noqa: E402
from botkit.defaults import default_embedder  # noqa: E402
from botkit.testing import FakeEmbedder, ManualClock  # noqa: E402

# Property tests run light by default; CI runs them once with HYPOTHESIS_PROFILE=thorough.
# No deadline: on a busy shared machine one example can take long for reasons of its own.
hypothesis_settings.register_profile("light", max_examples=50, deadline=None)
hypothesis_settings.register_profile("thorough", max_examples=1000, deadline=None)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "light"))

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "knowledge"
SHARED_DATASETS = ROOT.parent / "shared" / "datasets"


@pytest.fixture(scope="session")
def embedder():
    """The real multilingual USE embedder: for retrieval, evaluation and end-to-end tests."""
    return default_embedder()


@pytest.fixture(scope="session")
def fake_embedder() -> FakeEmbedder:
    """An instant, deterministic embedder for tests that need a working bot, not retrieval quality."""
    return FakeEmbedder()


@pytest.fixture(scope="session")
def sample_index_dir(tmp_path_factory, embedder) -> Path:
    """The sample knowledge base's index, built once per test session."""
    folder = tmp_path_factory.mktemp("sample-index")
    open_bot(SAMPLE, Settings(index_dir=folder, database_url="sqlite://"), embedder=embedder)
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
    bot.store.engine.dispose()


@pytest.fixture
def kb_copy(tmp_path) -> Path:
    """A writable copy of the sample knowledge base."""
    target = tmp_path / "knowledge"
    shutil.copytree(SAMPLE, target, ignore=shutil.ignore_patterns(".botkit*"))
    return target
