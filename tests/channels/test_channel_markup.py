"""Knowledge markup parsing and conversion to WhatsApp, Telegram MarkdownV2 and plain text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from botkit.channels.markup import (
    BOLD,
    ITALIC,
    Styled,
    check_markdown_v2,
    escape_markdown_v2,
    find_urls,
    parse_markup,
    render_markup,
    to_plain,
)
from botkit.errors import ChannelError


def styles(text: str) -> list[tuple[str, int]]:
    """(run text, flags) pairs of parsed markup, for readable assertions."""
    parsed = parse_markup(text)
    runs: list[tuple[str, int]] = []
    for char, flag in zip(parsed.text, parsed.flags):
        if runs and runs[-1][1] == flag:
            runs[-1] = (runs[-1][0] + char, flag)
        else:
            runs.append((char, flag))
    return runs


def test_bold_and_italic_spans_are_parsed():
    assert styles("Bitte *Zählernummer* und _Datum_ angeben.") == [("Bitte ", 0), ("Zählernummer", BOLD), (" und ", 0), ("Datum", ITALIC), (" angeben.", 0)]


def test_spans_nest_once():
    assert styles("*fett _beides_ fett*") == [("fett ", BOLD), ("beides", BOLD | ITALIC), (" fett", BOLD)]


@pytest.mark.parametrize(
    "text",
    [
        "snake_case_name",  # underscores inside a word
        "5 * 3 = 15",  # markers next to spaces
        "**",
        "a*b*c",  # markers inside a word
        "*über\nzwei Zeilen*",  # spans do not cross lines
        "*offen",
    ],
)
def test_literal_markers_stay_text(text):
    assert to_plain(text) == text


def test_markers_inside_urls_are_literal():
    text = "Formular: https://example.de/a_b_c*d_ und _hier_"
    assert styles(text) == [("Formular: https://example.de/a_b_c*d_ und ", 0), ("hier", ITALIC)]


def test_url_ends_before_trailing_punctuation_but_keeps_its_own_brackets():
    text = "Siehe https://de.wikipedia.org/wiki/Lindenau_(Ort). Oder (https://x.de/a)."
    urls = [text[s:e] for s, e in find_urls(text)]
    assert urls == ["https://de.wikipedia.org/wiki/Lindenau_(Ort)", "https://x.de/a"]


def test_bold_url_keeps_its_markers_outside():
    assert styles("*https://x.de/a_b*") == [("https://x.de/a_b", BOLD)]


def test_whatsapp_output_keeps_the_knowledge_syntax():
    text = "*Öffnungszeiten:* Mo–Fr _9 bis 18 Uhr_, *Sa _9 bis 13_ Uhr*."
    assert render_markup(parse_markup(text), "whatsapp") == text


def test_markdown_v2_escapes_every_reserved_character():
    reserved = "_*[]()~`>#+-=|{}.!\\"
    escaped = escape_markdown_v2(reserved)
    assert escaped == "".join("\\" + c for c in reserved)
    assert check_markdown_v2(escaped) == reserved


def test_markdown_v2_output_for_a_german_answer():
    text = "*Hinweis:* Abschlag (mtl.) ändern - z. B. im _Kundenportal_!"
    out = render_markup(parse_markup(text), "markdownv2")
    assert out == "*Hinweis:* Abschlag \\(mtl\\.\\) ändern \\- z\\. B\\. im _Kundenportal_\\!"
    assert check_markdown_v2(out) == "Hinweis: Abschlag (mtl.) ändern - z. B. im Kundenportal!"


def test_plain_output_drops_markers_only():
    assert render_markup(parse_markup("*Ja*, _gern_: a_b"), "plain") == "Ja, gern: a_b"


def test_spaces_at_span_edges_move_outside_the_markers():
    styled = Styled("fett frei", (BOLD,) * 5 + (0,) * 4)
    assert render_markup(styled, "whatsapp") == "*fett* frei"


def test_crossing_styles_are_closed_and_reopened_properly():
    styled = Styled("abc", (ITALIC, BOLD | ITALIC, BOLD))
    out = render_markup(styled, "markdownv2")
    assert check_markdown_v2(out) == "abc"


@pytest.mark.parametrize(
    "bad",
    ["a.b", "*offen", "_a*b_*", "**", "\\", "a\\\u00e4", "__x", "(", "x!"],
)
def test_check_markdown_v2_rejects_what_telegram_rejects(bad):
    with pytest.raises(ChannelError, match="MarkdownV2"):
        check_markdown_v2(bad)


MARKUP_TEXT = st.lists(
    st.one_of(
        st.sampled_from(["*", "_", " ", "\n", "a", "Ä", "ß", ".", "-", "\\", "`", "https://x.de/a_b*c", "😀"]),
        st.text(max_size=4),
    ),
    max_size=40,
).map("".join)


@given(MARKUP_TEXT)
def test_markdown_v2_output_always_parses_and_keeps_the_visible_text(text):
    parsed = parse_markup(text)
    assert check_markdown_v2(render_markup(parsed, "markdownv2")) == parsed.text


@given(MARKUP_TEXT)
def test_parsing_only_removes_markers(text):
    visible = parse_markup(text).text
    assert visible.replace("*", "").replace("_", "") == text.replace("*", "").replace("_", "")
    assert len(text) - len(visible) in range(0, len(text) + 1, 2)


WORD = st.text(alphabet="abcxyzäöüßABC0123456789,.!?:;()-", min_size=1, max_size=8)
SPAN = st.one_of(
    WORD.map(lambda w: f"*{w}*"),
    WORD.map(lambda w: f"_{w}_"),
    st.tuples(WORD, WORD, WORD).map(lambda t: f"*{t[0]} _{t[1]}_ {t[2]}*"),
    st.tuples(WORD, WORD).map(lambda t: f"_{t[0]} *{t[1]}*_"),
)
WELL_FORMED = st.lists(st.tuples(st.one_of(WORD, SPAN), st.sampled_from([" ", " ", "\n", "\n\n"])), max_size=30).map(
    lambda parts: "".join(a + b for a, b in parts)
)


@given(WELL_FORMED)
def test_whatsapp_output_reads_back_as_the_same_styles(text):
    parsed = parse_markup(text)
    again = parse_markup(render_markup(parsed, "whatsapp"))
    assert again.text == parsed.text
    # Spaces at span edges may lose their style; visible characters never do.
    assert [f for c, f in zip(again.text, again.flags) if not c.isspace()] == [f for c, f in zip(parsed.text, parsed.flags) if not c.isspace()]
