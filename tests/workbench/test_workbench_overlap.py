"""Near-duplicate and conflicting entries, found with the real multilingual embedder, and resolved by the consultant."""

from __future__ import annotations

from botkit.types import FaqEntry
from botkit.workbench.overlap import (
    BOTH,
    CONFLICT,
    DUPLICATE,
    KEEP_FIRST,
    KEEP_SECOND,
    MERGE,
    Overlap,
    find_overlaps,
    overlap_rows,
    resolve_overlaps,
)


def entry(entry_id: str, question: str, answer: str, lang: str = "de", paraphrases: tuple[str, ...] = ()) -> FaqEntry:
    return FaqEntry(entry_id, question, answer, "vertrag", "service", lang, paraphrases)


def test_similar_questions_with_different_answers_conflict_and_with_the_same_answer_duplicate(embedder):
    entries = [
        entry("frist-a", "Wie hoch ist die Kündigungsfrist?", "Einen Monat zum Monatsende."),
        entry("frist-b", "Welche Kündigungsfrist habe ich?", "Sechs Wochen zum Quartalsende."),
        entry("zeiten-a", "Wann hat das Kundencenter geöffnet?", "Mo–Fr 8–18 Uhr."),
        entry("zeiten-b", "Wann hat das  Kundencenter geöffnet?", "mo–fr 8–18 uhr."),
        entry("wasser", "Wie hart ist das Wasser in Lindenau?", "Hart: 16 °dH."),
    ]
    found = {(o.first, o.second): o for o in find_overlaps(entries, embedder, min_similarity=0.8)}
    assert set(found) == {("frist-a", "frist-b"), ("zeiten-a", "zeiten-b")}
    assert found[("frist-a", "frist-b")].kind == CONFLICT
    assert found[("zeiten-a", "zeiten-b")].kind == DUPLICATE  # spacing and case do not make answers differ
    assert found[("zeiten-a", "zeiten-b")].similarity > found[("frist-a", "frist-b")].similarity


def test_a_paraphrase_that_collides_with_another_entry_is_named(embedder):
    entries = [
        entry("abschlag", "Wie kann ich meinen Abschlag ändern?", "Im Kundenportal.", paraphrases=("Welche Kündigungsfrist habe ich?",)),
        entry("frist", "Wie hoch ist die Kündigungsfrist?", "Einen Monat."),
    ]
    [overlap] = find_overlaps(entries, embedder, min_similarity=0.8)
    assert (overlap.first_phrasing, overlap.second_phrasing) == ("Welche Kündigungsfrist habe ich?", "Wie hoch ist die Kündigungsfrist?")


def test_an_entry_and_its_translation_are_not_compared(embedder):
    entries = [
        entry("zaehlerstand", "Wie melde ich meinen Zählerstand?", "Im Kundenportal."),
        entry("meter", "How do I submit my meter reading?", "In the customer portal.", lang="en"),
    ]
    assert find_overlaps(entries, embedder, min_similarity=0.0) == []


def test_unrelated_entries_and_tiny_inputs_give_nothing(embedder):
    entries = [entry("a", "Wie hart ist das Wasser?", "Hart."), entry("b", "Was tue ich bei einem Stromausfall?", "Sicherungen prüfen.")]
    assert find_overlaps(entries, embedder) == []
    assert find_overlaps(entries[:1], embedder) == []


A = entry("a", "Wie erreiche ich euch?", "Telefon 030 1.", paraphrases=("Kontakt",))
B = entry("b", "Wie kann ich euch erreichen?", "Telefon 030 1.", paraphrases=("kontakt", "Hotline"))
C = entry("c", "Wo finde ich euch?", "Hafenstraße 12.")


def test_keep_first_keep_second_merge_and_both_are_applied_in_order():
    assert resolve_overlaps([A, B, C], {("a", "b"): KEEP_FIRST}) == [A, C]
    assert resolve_overlaps([A, B, C], {("a", "b"): KEEP_SECOND}) == [B, C]
    assert resolve_overlaps([A, B, C], {("a", "b"): BOTH}) == [A, B, C]
    [merged, c] = resolve_overlaps([A, B, C], {("a", "b"): MERGE})
    assert (merged.id, merged.answer, c) == ("a", A.answer, C)
    assert merged.paraphrases == ("Kontakt", "Wie kann ich euch erreichen?", "Hotline")  # each phrasing once


def test_a_later_choice_follows_the_entry_that_replaced_a_removed_one():
    # b was merged into a; a choice about b and c now applies to a and c.
    assert [e.id for e in resolve_overlaps([A, B, C], {("a", "b"): MERGE, ("b", "c"): KEEP_SECOND})] == ["c"]
    assert resolve_overlaps([A, C], {("a", "gone"): KEEP_FIRST, ("a", "c"): KEEP_FIRST}) == [A]


def test_the_pairs_table_shows_each_choice_or_open():
    pairs = [Overlap(DUPLICATE, "a", "b", 0.93, A.question, B.question, 1.0, A.answer, B.answer)]
    assert [r["choice"] for r in overlap_rows(pairs, {})] == ["open"]
    assert [r["choice"] for r in overlap_rows(pairs, {("a", "b"): MERGE})] == [MERGE]
