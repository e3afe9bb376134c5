"""A bot shared by a test module: the workbench starts a new conversation (and user) for everything it asks."""

from __future__ import annotations

import shutil

import pytest

from botkit import Settings, open_bot
from tests.conftest import SAMPLE


@pytest.fixture(scope="module")
def shared_bot(tmp_path_factory, sample_index_dir, embedder):
    folder = tmp_path_factory.mktemp("workbench-bot")
    shutil.copytree(sample_index_dir, folder / "index")
    bot = open_bot(SAMPLE, Settings(index_dir=folder / "index", database_url=f"sqlite:///{folder / 'botkit.db'}"), embedder=embedder)
    yield bot
    bot.store.engine.dispose()
