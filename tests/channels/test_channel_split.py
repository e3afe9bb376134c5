"""Splitting at sentence and word boundaries, and shortening titles."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from botkit.channels.markup import Styled, parse_markup, render_markup
from botkit.channels.split import (
    char_cost,
    shorten,
    shorten_unique,
    split_styled,
    truncate_bytes,
)

ONE = char_cost("codepoints")


def split(text: str, target: int, hard: int = 4096, max_chunks: int | None = None) -> list[str]:
    chunks = split_styled(parse_markup(text), target=target, hard=hard, cost_of=ONE, max_chunks=max_chunks)
    return [c.text for c in chunks.chunks]


def test_short_text_stays_one_bubble():
    assert split("  Hallo Welt.  ", 300) == ["Hallo Welt."]


def test_whitespace_only_gives_no_bubble():
    assert split(" \n\t ", 300) == []


def test_splits_at_sentence_ends():
    text = "Erster Satz mit Inhalt. Zweiter Satz mit Inhalt. Dritter Satz mit Inhalt."
    assert split(text, 50) == [
        "Erster Satz mit Inhalt. Zweiter Satz mit Inhalt.",
        "Dritter Satz mit Inhalt.",
    ]


def test_abbreviations_and_ordinals_do_not_end_sentences():
    text = "Geöffnet z. B. am 1. Mai und ca. 3 Std. am Tag, Mo. bis Fr. für Sie. Danach ist zu."
    chunks = split(text, 75)
    assert chunks[0].endswith("für Sie.")


def test_prefers_paragraphs_over_sentences():
    text = "Absatz eins ist kurz.\n\nAbsatz zwei. Er hat zwei Sätze und ist etwas länger."
    assert split(text, 60)[0] == "Absatz eins ist kurz."


def test_never_breaks_inside_words_or_urls():
    url = "https://www.stadtwerke-lindenau.example/kundencenter/oeffnungszeiten_und_anfahrt"
    text = f"Alle Infos finden Sie unter {url} und telefonisch."
    chunks = split(text, 40)
    assert url in chunks
    assert " ".join(chunks) == text


def test_word_longer_than_target_gets_a_bubble_of_its_own():
    word = "Donaudampfschifffahrtsgesellschaftskapitänsmütze"
    assert split(f"Das ist eine {word} hier.", 20) == ["Das ist eine", word, "hier."]


def test_only_a_word_longer_than_the_hard_limit_is_cut():
    word = "x" * 250
    result = split_styled(Styled.plain(f"a {word} b"), target=50, hard=100, cost_of=ONE)
    texts = [c.text for c in result.chunks]
    assert texts == ["a", "x" * 100, "x" * 100, "x" * 50, "b"]
    assert result.cut_words == (250,)


def test_cut_does_not_split_an_emoji_sequence():
    family = "👨\u200d👩\u200d👧"
    text = "x" * 9 + family + "y"
    result = split_styled(Styled.plain(text), target=10, hard=10, cost_of=ONE)
    assert all(family in c.text or "\u200d" not in c.text for c in result.chunks)


def test_bold_span_split_is_closed_and_reopened():
    text = "*" + " ".join(["fettes Wort"] * 6) + "*"
    chunks = split_styled(parse_markup(text), target=30, hard=4096, cost_of=ONE, marker_cost=1).chunks
    rendered = [render_markup(c, "whatsapp") for c in chunks]
    assert len(rendered) > 1
    assert all(r.startswith("*") and r.endswith("*") and len(r) <= 30 for r in rendered)


def test_breaks_outside_spans_are_preferred():
    text = "eins zwei drei vier *fünf sechs sieben acht neun*"
    chunks = split(text, 30)
    assert chunks[0] == "eins zwei drei vier"


def test_max_chunks_grows_the_bubbles_instead():
    text = " ".join(f"Satz Nummer {i} ist hier." for i in range(30))
    assert len(split(text, 100)) > 3
    assert len(split(text, 100, max_chunks=3)) <= 3


def test_utf16_cost_counts_emoji_twice():
    result = split_styled(Styled.plain("😀" * 6), target=10, hard=10, cost_of=char_cost("utf16"))
    assert [c.text for c in result.chunks] == ["😀" * 5, "😀"]


def test_shorten_cuts_at_a_space_with_an_ellipsis():
    assert shorten("Öffnungszeiten am Wochenende", 20) == "Öffnungszeiten am…"
    assert shorten("Kurz", 20) == "Kurz"
    assert shorten("Donaudampfschifffahrtsgesellschaft", 20) == "Donaudampfschifffah…"


def test_shortened_titles_stay_unique():
    titles = ["Öffnungszeiten am Wochenende", "Öffnungszeiten am Wochentag", "Öffnungszeiten am…"]
    shown = shorten_unique(titles, 20)
    assert shown[2] == "Öffnungszeiten am…"
    assert shown[0].endswith("Wochenende") and shown[1].endswith("Wochentag")
    assert len({s.casefold() for s in shown}) == 3
    assert all(len(s) <= 20 for s in shown)


def test_truncate_bytes_never_splits_a_character():
    assert truncate_bytes("Größe", 3) == "Gr"
    assert truncate_bytes("😀😀", 5) == "😀"
    assert truncate_bytes("ab", 64) == "ab"


TEXT = st.lists(
    st.one_of(
        st.sampled_from([" ", " ", "\n", "\n\n", ". ", "Ä", "z. B. ", "*", "_", "😀", "e\u0301"]),
        st.text(max_size=12),
    ),
    max_size=60,
).map("".join)


@given(TEXT, st.integers(5, 80), st.integers(5, 120), st.sampled_from(["codepoints", "utf16", "sms"]))
def test_split_keeps_every_word_in_order_within_the_hard_limit(text, target, hard, unit):
    styled = parse_markup(text)
    cost = char_cost(unit)
    result = split_styled(styled, target=target, hard=hard, cost_of=cost)
    for chunk in result.chunks:
        assert chunk.text.strip() == chunk.text != ""
        assert sum(cost(c) for c in chunk.text) <= hard
    joined = "".join("".join(c.text.split()) for c in result.chunks)
    assert joined == "".join(styled.text.split())
    if not result.cut_words:
        assert " ".join(c.text for c in result.chunks).split() == styled.text.split()


@given(st.lists(st.text(max_size=40), max_size=12, unique_by=str.casefold), st.integers(4, 30))
def test_shorten_unique_fits_and_stays_distinct(titles, limit):
    shown = shorten_unique(titles, limit)
    assert len(shown) == len(titles)
    assert all(len(s) <= limit for s in shown)
    assert len({s.casefold() for s in shown}) == len(titles)
    for title, s in zip(titles, shown):
        assert s == title or "…" in s


def test_measure_uses_the_channel_unit():
    from botkit.channels import measure

    assert measure("whatsapp", "Grüße 😀") == 7  # code points
    assert measure("telegram", "Grüße 😀") == 8  # UTF-16: the emoji counts twice
    assert measure("sms", "Grüße €") == 8  # GSM-7: "€" takes two septets
    assert measure("sms", "Grüße 😀") == 8  # UCS-2 units
