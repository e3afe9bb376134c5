"""Channel profiles hold the researched limits, each with a source."""

from __future__ import annotations

from dataclasses import fields

import pytest

from botkit.channels import CHANNELS, HouseRules, get_profile
from botkit.errors import ConfigError

# Values from shared/research/platform-rules.md, section 3.
RESEARCHED = {
    "whatsapp": {
        "max_text": 4096,
        "max_caption": 1024,
        "max_interactive_body": 1024,
        "max_buttons": 3,
        "max_button_title": 20,
        "max_list_rows": 10,
        "max_row_title": 24,
        "max_row_description": 72,
        "max_list_button": 20,
    },
    "messenger": {"max_text": 2000, "max_buttons": 13, "max_button_title": 20},
    "telegram": {"max_text": 4096, "max_caption": 1024, "max_reply_id_bytes": 64, "length_unit": "utf16", "markup": "markdownv2"},
    "sms": {"max_text": 1600, "max_buttons": 0, "length_unit": "sms"},
}

CITED = ("max_text", "max_buttons", "length_unit")


@pytest.mark.parametrize("channel", sorted(RESEARCHED))
def test_profile_values_match_the_research(channel):
    profile = get_profile(channel)
    for name, value in RESEARCHED[channel].items():
        assert getattr(profile, name) == value, name


def test_sms_segment_sizes_match_the_research():
    sizes = get_profile("sms").sms
    assert sizes is not None
    assert (sizes.gsm7_single, sizes.gsm7_concat, sizes.ucs2_single, sizes.ucs2_concat) == (160, 153, 70, 67)


@pytest.mark.parametrize("channel", CHANNELS)
def test_every_profile_cites_its_main_limits_with_a_date(channel):
    profile = get_profile(channel)
    assert profile.name == channel
    assert profile.checked.year >= 2026
    names = {f.name for f in fields(profile)}
    for limit, cite in profile.citations:
        assert limit in names
        assert cite.source and cite.status in ("official", "secondary", "unverified", "house")
    for limit in CITED:
        if channel != "web" or limit != "length_unit":
            assert profile.citation(limit).source, limit


def test_only_official_sources_count_as_verified():
    whatsapp = get_profile("whatsapp")
    assert whatsapp.verified["max_buttons"] is True
    assert whatsapp.verified["max_text"] is False  # an error string, quoted second-hand
    assert get_profile("telegram").citation("length_unit").status == "unverified"


def test_asking_for_an_unknown_limit_names_the_known_ones():
    with pytest.raises(ConfigError, match="max_text"):
        get_profile("sms").citation("max_smileys")


def test_unknown_channel_lists_the_known_ones():
    with pytest.raises(ConfigError) as info:
        get_profile("signal")
    for name in CHANNELS:
        assert name in str(info.value)


def test_house_rules_defaults_are_short_messages():
    rules = HouseRules()
    assert (rules.bubble_chars, rules.max_bubbles, rules.max_images) == (300, 3, 1)


@pytest.mark.parametrize(
    "kwargs",
    [{"bubble_chars": 0}, {"max_bubbles": 0}, {"max_images": -1}, {"bubble_chars": True}, {"list_label": " "}, {"max_quick_replies": 1.5}],
)
def test_house_rules_reject_unusable_values(kwargs):
    with pytest.raises(ConfigError, match="HouseRules"):
        HouseRules(**kwargs)


def test_channels_all_is_sorted_and_importable():
    import botkit.channels as channels

    assert channels.__all__ == sorted(channels.__all__)
    for name in channels.__all__:
        assert getattr(channels, name) is not None
