"""Import guards: offer rows suggested as marketing, offers in service answers moved to a teaser, pairs resolved; all once confirmed."""

from __future__ import annotations

import pytest
import yaml

from botkit.errors import ConfigError, Problem
from botkit.knowledge import load_knowledge, validate_records
from botkit.types import FaqEntry, Topic
from botkit.workbench.columns import read_table
from botkit.workbench.folder import ImportChoices, Workshop
from botkit.workbench.offers import MARKETING, TEASER, apply_offer_choices, find_offers, offer_rows, sentences
from botkit.workbench.overlap import DUPLICATE, Overlap
from botkit.workbench.session import Session, import_faq
from botkit.workbench.widgets import ImportReview

NEWSLETTER = Topic("newsletter", {"de": "Newsletter"}, {"de": "Angebote per Chat."}, "2026-11-01")


def entry(entry_id: str, question: str, answer: str, lang: str = "de", scope: str = "service") -> FaqEntry:
    return FaqEntry(entry_id, question, answer, "allgemein", scope, lang)  # type: ignore[arg-type]


ENTRIES = [
    entry("preise", "Was kostet die Mitgliedschaft?", "Sie kostet 34,90 € im Monat. Einmalig kommen 19 € dazu."),
    entry("herbst", "Was kostet der Einstieg?", "Die Startgebühr ist 19 €. Im Herbst sparst du 50 % darauf."),
    entry("neujahr", "Gibt es ein Angebot zum Jahreswechsel?", "Zum Jahreswechsel zahlst du nur 9 € statt 19 €."),
    entry("kurse", "Welches Kursangebot gibt es?", "Yoga, Spinning und Zumba; die Teilnahme ist kostenlos."),
    entry("feiertage", "Habt ihr an Feiertagen offen?", "Am 24. und 31. Dezember sowie am 1. Januar bleibt das Studio zu."),
    entry("deal", "Do you have a student deal?", "Students get a discount of 20 % with their ID. Ask at the desk.", lang="en"),
    entry("aktion", "Gibt es Aktionen?", "Regelmäßig.", scope="marketing"),
]


def test_offer_words_and_prices_suggest_marketing_or_a_teaser_per_language():
    found = {f.entry_id: f for f in find_offers(ENTRIES)}
    assert set(found) == {"herbst", "neujahr", "deal"}  # prices alone, "Kursangebot" and "kostenlos" are not offers
    assert found["neujahr"].kind == MARKETING and {"angebot", "nur 9", "statt 19"} <= set(found["neujahr"].words)
    assert found["herbst"].kind == TEASER
    assert (found["herbst"].offer, found["herbst"].rest) == (("Im Herbst sparst du 50 % darauf.",), ("Die Startgebühr ist 19 €.",))
    assert found["deal"].kind == MARKETING and "discount" in found["deal"].words  # "deal" in the question
    assert sentences(ENTRIES[4].answer) == [ENTRIES[4].answer]  # "24." and "1. Januar" end no sentence


def test_nothing_is_applied_until_confirmed_and_a_moved_offer_becomes_a_valid_teaser():
    assert apply_offer_choices(ENTRIES, {}, [NEWSLETTER]) == ENTRIES
    changed = {e.id: e for e in apply_offer_choices(ENTRIES, {"herbst": True, "neujahr": True, "deal": False}, [NEWSLETTER])}
    assert changed["herbst"].scope == "marketing" and changed["herbst"].topic == "newsletter"
    assert changed["herbst"].answer == "Die Startgebühr ist 19 €." and changed["herbst"].teaser == "Im Herbst sparst du 50 % darauf."
    assert changed["neujahr"].scope == "marketing" and changed["neujahr"].answer == ENTRIES[2].answer
    assert changed["deal"] == ENTRIES[5]  # declined
    problems: list[Problem] = []
    fields = ("id", "question", "answer", "topic", "scope", "lang", "teaser")
    validate_records([({f: getattr(e, f) for f in fields}, "faq.yaml", 1, {}) for e in changed.values()], problems)
    assert problems == []  # a teaser only on marketing entries: the moved entry is valid
    rows = offer_rows(find_offers(ENTRIES), {"herbst": True, "deal": False})
    assert [r["state"] for r in rows] == ["applied (confirmed)", "suggested, not applied: confirm or decline", "declined: kept as service"]


def test_a_confirmed_teaser_reaches_only_customers_who_opted_in(fitness, embedder):
    [finding] = [f for f in find_offers(load_knowledge(fitness.knowledge).entries) if f.kind == TEASER]
    assert finding.entry_id == "ms-05" and "Herbst-Rabatt" in " ".join(finding.offer)
    review = ImportReview(fitness, read_table(fitness.faq_export()), [finding], [])
    review.box.children[0].children[1].click()  # "Move to teaser"
    workshop = Workshop.open(fitness.root)
    assert workshop.choices == ImportChoices(offers={"ms-05": True})
    moved = load_knowledge(workshop.knowledge).by_id()["ms-05"]
    assert moved.scope == "marketing" and "Herbst-Rabatt" in moved.teaser and "Herbst-Rabatt" not in moved.answer
    with Session(workshop, embedder=embedder) as session:
        reply = session.bot.reply("kim", "Was kostet die Mitgliedschaft?", "web")
        assert reply.entries == ("ms-05",)
        sent = " ".join(m.text for m in reply.messages)
        assert "34,90" in sent and "Herbst-Rabatt" not in sent  # the service part for everyone, the offer only with consent


def test_choices_are_saved_in_workshop_yaml_and_applied_on_every_import(fitness):
    workshop = fitness.save(choices=ImportChoices(offers={"an-05": True}, overlaps={("all-01", "all-04"): "merge"}))
    saved = yaml.safe_load((workshop.root / "workshop.yaml").read_text(encoding="utf-8"))["choices"]
    assert saved == {"offers": {"an-05": True}, "overlaps": [{"first": "all-01", "second": "all-04", "choice": "merge"}]}
    table = read_table(workshop.faq_export())
    workshop, mapped = import_faq(Workshop.open(workshop.root), table, workshop.mapping_for(table))
    entries = load_knowledge(workshop.knowledge).by_id()
    assert entries["an-05"].scope == "marketing" and "all-04" not in entries
    assert "Wie kann ich euch erreichen?" in entries["all-01"].paraphrases
    assert {e.id for e in mapped.entries} >= {"an-05", "all-04"}  # the export as it came, to show the suggestions again


def test_a_pair_is_merged_with_one_click_and_stays_merged(fitness):
    pair = Overlap(DUPLICATE, "all-01", "all-04", 0.9, "Wie erreiche ich euch?", "Wie kann ich euch erreichen?", 1.0, "a", "a")
    review = ImportReview(fitness, read_table(fitness.faq_export()), [], [pair])
    merge = next(b for b in review.box.children[0].children if getattr(b, "description", "") == "Merge")
    merge.click()
    assert review.box.children[0].children[-1].value == "merge"
    workshop = Workshop.open(fitness.root)
    assert workshop.choices.overlaps == {("all-01", "all-04"): "merge"}
    assert "all-04" not in load_knowledge(workshop.knowledge).by_id()


def test_an_unknown_choice_in_workshop_yaml_says_which_are_allowed(fitness):
    path = fitness.root / "workshop.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["choices"] = {"overlaps": [{"first": "a", "second": "b", "choice": "both-ish"}]}
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ConfigError, match="both-ish.*keep-first, keep-second, merge, both"):
        Workshop.open(fitness.root)
