"""GSM-7 detection and segment counting."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from botkit.channels import prefer_gsm7, sms_info
from botkit.channels.sms import GSM7_BASIC, GSM7_EXTENSION


def test_german_umlauts_and_eszett_stay_in_gsm7():
    info = sms_info("Grüße aus Köln: Äpfel, Öl, Übergröße, Straße")
    assert info.encoding == "GSM-7"
    assert info.ucs2_chars == ()
    assert info.segments == 1


def test_gsm7_tables_have_the_standard_sizes():
    assert len(GSM7_BASIC) == 127  # 128 codes minus the escape
    assert len(GSM7_EXTENSION) == 10
    assert not GSM7_BASIC & GSM7_EXTENSION


def test_single_segment_holds_160_gsm7_characters():
    assert sms_info("a" * 160).segments == 1
    assert sms_info("a" * 161).segments == 2
    assert sms_info("a" * 306).segments == 2
    assert sms_info("a" * 307).segments == 3


def test_extension_characters_take_two_septets():
    info = sms_info("€" * 80)
    assert (info.encoding, info.units, info.segments) == ("GSM-7", 160, 1)
    assert sms_info("€" * 81).segments == 2


def test_escape_pair_is_never_split_across_segments():
    # 152 septets, then "€" (2) would straddle the 153 boundary and moves on.
    text = "a" * 152 + "€" + "a" * 152
    assert sms_info(text).units == 306
    assert sms_info(text).segments == 3


def test_one_emoji_forces_ucs2_for_the_whole_message():
    info = sms_info("Danke 👍")
    assert info.encoding == "UCS-2"
    assert info.ucs2_chars == ("👍",)
    assert info.units == 8  # the emoji takes two UTF-16 units


def test_ucs2_segments_are_70_then_67():
    assert sms_info("✓" * 70).segments == 1
    assert sms_info("✓" * 71).segments == 2
    assert sms_info("✓" * 134).segments == 2
    assert sms_info("✓" * 135).segments == 3


def test_surrogate_pair_is_never_split_across_ucs2_segments():
    text = "✓" * 66 + "😀" + "✓" * 66  # the emoji would straddle unit 67
    assert sms_info(text).segments == 3


def test_typographic_quotes_and_dashes_are_reported_as_forcing_ucs2():
    info = sms_info("„Tarif“ – jetzt…")
    assert info.encoding == "UCS-2"
    assert info.ucs2_chars == ("„", "“", "–", "…")


def test_prefer_gsm7_replaces_typography_with_lookalikes():
    text = prefer_gsm7("„Tarif“ – ‚neu‘… jetzt\u00a0buchen")
    assert text == "\"Tarif\" - 'neu'... jetzt buchen"
    assert sms_info(text).encoding == "GSM-7"


def test_prefer_gsm7_keeps_letters_outside_gsm7():
    assert prefer_gsm7("Garçon") == "Garçon"
    assert sms_info("Garçon").ucs2_chars == ("ç",)


def test_empty_text_sends_nothing():
    assert sms_info("").segments == 0


@given(st.text(max_size=400))
def test_segments_fit_the_units(text):
    info = sms_info(text)
    single, concat = (160, 153) if info.encoding == "GSM-7" else (70, 67)
    if info.units == 0:
        assert info.segments == 0
    elif info.units <= single:
        assert info.segments == 1
    else:
        # Greedy packing loses at most one unit per segment to an unsplittable pair.
        assert -(-info.units // concat) <= info.segments <= -(-info.units // (concat - 1))
    assert (info.encoding == "GSM-7") == (not info.ucs2_chars)
    assert all(c in text for c in info.ucs2_chars)
