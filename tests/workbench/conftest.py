"""Shared workbench fixtures: a bot on the sample, and a fitness studio's workshop folder (a second client)."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import openpyxl
import pytest

from botkit import Settings, open_bot
from botkit.workbench.columns import read_table
from botkit.workbench.folder import Workshop
from botkit.workbench.session import Session, import_faq
from tests.conftest import ROOT, SAMPLE, built_once

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
    bot.close()


@pytest.fixture(scope="session")
def fitness_template(tmp_path_factory, worker_id, embedder) -> Path:
    """A fitness studio workshop with its export imported and its index built, once per test run (copy it to change it)."""

    def build(folder: Path) -> None:
        workshop = Workshop.create(folder / "workshop", client="Kraftwerk Fitness", tone="du", bot_name="Tessa")
        copy_fitness_inputs(workshop.inputs)
        table = read_table(workshop.faq_export())
        workshop, _ = import_faq(workshop, table, workshop.mapping_for(table))
        Session(workshop, embedder=embedder).close()  # builds the index

    return built_once(tmp_path_factory, worker_id, "fitness-template", build) / "workshop"


@pytest.fixture
def fitness(tmp_path, fitness_template):
    """A private copy of the fitness workshop folder, as a `Workshop`."""
    root = tmp_path / "workshop"
    shutil.copytree(fitness_template, root)
    return Workshop.open(root)
