"""A workshop folder per client: `botkit workshop new`, `workshop.yaml`, its inputs and saved decisions."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from botkit.errors import ConfigError
from botkit.knowledge import load_knowledge
from botkit.workbench.columns import read_table
from botkit.workbench.folder import FOLDERS, NOTEBOOKS, WORKSHOP_FILE, ClientDetails, SavedMapping, Workshop, input_role
from botkit.workbench.session import import_faq
from tests.cli_main import run_main
from tests.conftest import ROOT
from tests.workbench.conftest import FITNESS_EXPORT, copy_fitness_inputs


def test_new_makes_the_folders_the_notebooks_and_a_gitignore_for_client_data(tmp_path):
    workshop = Workshop.create(tmp_path / "acme", client="ACME Fitness", tone="du", bot_name="Tessa")
    root = workshop.root
    assert all((root / name).is_dir() for name in FOLDERS)
    assert all((root / name).is_file() for name in NOTEBOOKS)
    ignored = (root / ".gitignore").read_text(encoding="utf-8").split()
    assert "inputs/" in ignored and "transcripts/" in ignored
    saved = yaml.safe_load((root / WORKSHOP_FILE).read_text(encoding="utf-8"))
    assert saved["client"]["name"] == "ACME Fitness" and saved["client"]["tone"] == "du"
    assert Workshop.open(root).details == workshop.details
    assert "bot_name: Tessa" in (root / "knowledge" / "botkit.yaml").read_text(encoding="utf-8")


def test_new_again_keeps_the_decisions_and_the_notebooks(tmp_path):
    workshop = Workshop.create(tmp_path / "w", client="A", tone="sie")
    (workshop.root / NOTEBOOKS[0]).write_text("edited", encoding="utf-8")
    workshop.save(details=replace(workshop.details, contact="030 1"))
    again = Workshop.create(tmp_path / "w", tone="du")
    assert again.details.name == "A" and again.details.contact == "030 1" and again.details.tone == "du"
    assert (workshop.root / NOTEBOOKS[0]).read_text(encoding="utf-8") == "edited"


def test_the_cli_makes_a_workshop_and_lab_refuses_a_folder_without_one(tmp_path):
    made = run_main("workshop", "new", str(tmp_path / "w"), "--client", "Kraftwerk", "--tone", "du", "--sample")
    assert made.returncode == 0, made.stderr
    workshop = Workshop.open(tmp_path / "w")
    assert workshop.details.tone == "du" and workshop.faq_export().name == "client-faq-export.csv"
    assert workshop.chat_log().name == "chat-log-questions.csv"
    bad = run_main("workshop", "new", str(tmp_path / "x"), "--tone", "ihr")
    assert bad.returncode == 1 and "use 'du' or 'sie'" in bad.stderr
    lab = run_main("lab", str(tmp_path))
    assert lab.returncode == 1 and "botkit workshop new" in lab.stderr


def test_open_says_how_to_make_a_workshop(tmp_path):
    with pytest.raises(ConfigError, match="botkit workshop new"):
        Workshop.open(tmp_path)


def test_inputs_are_told_apart_by_their_columns(tmp_path):
    workshop = Workshop.create(tmp_path / "w")
    copy_fitness_inputs(workshop.inputs)
    assert workshop.faq_export().name == FITNESS_EXPORT
    assert workshop.chat_log().name == "chat-log.csv"  # Windows-1252, column "Kundennachricht"
    assert workshop.labelled_cases().name == "labelled-cases.csv"
    assert input_role(workshop.inputs / "chat-log.csv") == "chat_log"
    (workshop.inputs / "notes.txt").write_text("Datum,Kunde,Betrag\n", encoding="utf-8")
    assert input_role(workshop.inputs / "notes.txt") is None


def test_a_missing_or_ambiguous_input_says_what_to_do(tmp_path):
    workshop = Workshop.create(tmp_path / "w")
    with pytest.raises(ConfigError, match="copy the client's file there"):
        workshop.faq_export()
    (workshop.inputs / "a.csv").write_text("Frage;Antwort\nx;y\n", encoding="utf-8")
    (workshop.inputs / "b.csv").write_text("Frage;Antwort\nx;y\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="several files .*a.csv, b.csv.*inputs: faq: FILE"):
        workshop.faq_export()
    named = replace(workshop, files={"faq": "b.csv"})
    assert named.faq_export().name == "b.csv"
    with pytest.raises(ConfigError, match="does not exist"):
        replace(workshop, files={"faq": "c.csv"}).faq_export()


def test_the_chosen_mapping_is_saved_and_reused_not_guessed_again(tmp_path, embedder):
    workshop = Workshop.create(tmp_path / "w", client="Kraftwerk Fitness", tone="du")
    copy_fitness_inputs(workshop.inputs)
    table = read_table(workshop.faq_export())
    guessed = workshop.mapping_for(table)
    assert guessed["Schlagwörter"] == "paraphrases" and guessed["Mehr erfahren"] == "links"
    chosen = {**guessed, "Schlagwörter": ""}  # the consultant says: do not use the keywords
    workshop, mapped = import_faq(workshop, table, chosen)
    assert "Schlagwörter" in mapped.ignored
    reopened = Workshop.open(workshop.root)
    assert reopened.mapping == SavedMapping(FITNESS_EXPORT, chosen, {"lang": "de", "scope": "service", "topic": "allgemein"})
    assert reopened.mapping_for(table) == chosen  # what notebook 6 uses
    assert load_knowledge(workshop.knowledge).by_id()["ms-01"].paraphrases == ()


def test_the_import_drafts_a_consent_topic_for_marketing_entries_in_the_clients_tone(tmp_path):
    workshop = Workshop.create(tmp_path / "w", client="Kraftwerk Fitness", tone="du")
    copy_fitness_inputs(workshop.inputs)
    table = read_table(workshop.faq_export())
    workshop, mapped = import_faq(workshop, table, workshop.mapping_for(table))
    [topic] = workshop.details.topics
    assert topic.id == "angebote-aktionen" and topic.title["de"] == "Angebote & Aktionen"
    assert "Du kannst die Einwilligung" in topic.description["de"] and workshop.details.proposed == ("angebote-aktionen",)
    knowledge = load_knowledge(workshop.knowledge)  # marketing entries load with a topic one can opt into
    assert {e.topic for e in knowledge.entries if e.scope == "marketing"} == {"angebote-aktionen"}
    again, _ = import_faq(workshop, table, workshop.mapping_for(table))
    assert len(again.details.topics) == 1  # not drafted twice


def test_settings_use_the_workshops_index_and_its_calibration_once_written(tmp_path):
    workshop = Workshop.create(tmp_path / "w")
    assert workshop.settings().index_dir == workshop.root / ".botkit" and workshop.settings().calibration is None
    workshop.calibration.write_text("{}", encoding="utf-8")
    assert workshop.settings().calibration == workshop.calibration


def test_bad_details_are_refused():
    with pytest.raises(ConfigError, match="use 'du' or 'sie'"):
        ClientDetails(tone="ihr")
    with pytest.raises(ConfigError, match="unknown channel"):
        ClientDetails(channels=("fax",))


def test_the_notebooks_and_the_sample_are_declared_as_package_data():
    """`botkit workshop new` must work from an installed wheel: the files it copies are package data."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["botkit.workbench"]
    package = ROOT / "botkit" / "workbench"
    shipped = {p.relative_to(package) for pattern in patterns for p in package.glob(pattern)}
    assert {Path("notebooks") / name for name in NOTEBOOKS} <= shipped
    assert {Path("sample/client-faq-export.csv"), Path("sample/chat-log-questions.csv")} <= shipped
