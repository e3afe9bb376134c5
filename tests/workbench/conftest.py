"""Shared workbench fixtures: a bot on the sample, and a fitness studio's workshop folder (a second client)."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import openpyxl
import pytest

from botkit import Settings, open_bot
from tests.conftest import ROOT, SAMPLE

FITNESS = ROOT / "tests" / "data" / "workshop-fitness"
FITNESS_EXPORT = "Kraftwerk-FAQ-Export.xlsx"


def copy_fitness_inputs(inputs: Path) -> None:
    """The fitness studio's files as they arrive: an XLSX export (made from the committed CSV), a cp1252 chat log, cases."""
    inputs.mkdir(parents=True, exist_ok=True)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "FAQ"
    with (FITNESS / "faq-export.csv").open(encoding="utf-8", newline="") as source:
        for row in csv.reader(source):
            sheet.append(row)
    book.save(inputs / FITNESS_EXPORT)
    shutil.copy(FITNESS / "chat-log.csv", inputs / "chat-log.csv")
    shutil.copy(FITNESS / "labelled-cases.csv", inputs / "labelled-cases.csv")


@pytest.fixture(scope="module")
def shared_bot(tmp_path_factory, sample_index_dir, embedder):
    folder = tmp_path_factory.mktemp("workbench-bot")
    shutil.copytree(sample_index_dir, folder / "index")
    bot = open_bot(SAMPLE, Settings(index_dir=folder / "index", database_url=f"sqlite:///{folder / 'botkit.db'}"), embedder=embedder)
    yield bot
    bot.store.engine.dispose()
