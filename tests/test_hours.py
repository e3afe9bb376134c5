"""Business hours on fixed instants (DST, holidays, Sundays, closing time) and the waiting promise."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from botkit.errors import ConfigError
from botkit.hours import BusinessHours, format_when, parse_day, parse_holiday, waiting_promise
from botkit.types import Client

BERLIN = ZoneInfo("Europe/Berlin")
WEEK = ("08:00-18:00",) * 4 + ("08:00-12:00,13:00-16:00", "09:00-13:00", None)  # Mon..Sun
HOURS = BusinessHours("Europe/Berlin", tuple(parse_day(d) for d in WEEK), frozenset({date(2026, 12, 24), date(2026, 12, 25)}))
CLIENT = Client(name="Stadtwerke Test", bot_name="Tessa", phone="0800 123 4567", email="service@test.example", hours=HOURS)


def at(*parts: int) -> float:
    """An instant given as Berlin wall-clock time."""
    return datetime(*parts, tzinfo=BERLIN).timestamp()


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        (at(2026, 11, 30, 8, 0), True),  # Monday, opening minute
        (at(2026, 11, 30, 17, 59), True),
        (at(2026, 11, 30, 18, 0), False),  # closing minute is closed
        (at(2026, 12, 4, 12, 30), False),  # Friday lunch break
        (at(2026, 12, 4, 13, 0), True),
        (at(2026, 12, 5, 10, 0), True),  # Saturday morning
        (at(2026, 12, 6, 10, 0), False),  # Sunday
        (at(2026, 12, 24, 10, 0), False),  # a holiday on a Thursday
        (at(2026, 3, 30, 8, 30), True),  # the Monday after clocks went forward
        (at(2026, 10, 26, 7, 30), False),  # the Monday after clocks went back
    ],
)
def test_is_open_follows_the_week_holidays_and_local_time(instant, expected):
    assert HOURS.is_open(instant) is expected


def test_next_opening_over_the_spring_dst_change_is_an_hour_shorter():
    saturday = at(2026, 3, 28, 14, 0)  # CET; clocks go forward on Sunday the 29th
    opening = HOURS.next_opening(saturday)
    assert opening == at(2026, 3, 30, 8, 0)
    assert opening - saturday == 41 * 3600  # 42 wall-clock hours, one of them skipped
    assert datetime.fromtimestamp(opening, ZoneInfo("UTC")).hour == 6


def test_next_opening_over_the_autumn_dst_change_is_an_hour_longer():
    saturday = at(2026, 10, 24, 14, 0)  # CEST; clocks go back on Sunday the 25th
    opening = HOURS.next_opening(saturday)
    assert opening is not None and opening - saturday == 43 * 3600
    assert datetime.fromtimestamp(opening, ZoneInfo("UTC")).hour == 7


def test_next_opening_skips_holidays_and_is_now_while_open():
    christmas_eve = at(2026, 12, 24, 9, 0)
    assert HOURS.next_opening(christmas_eve) == at(2026, 12, 26, 9, 0)  # Saturday after two holidays
    monday = at(2026, 11, 30, 9, 0)
    assert HOURS.next_opening(monday) == monday
    assert HOURS.next_opening(at(2026, 12, 4, 12, 15)) == at(2026, 12, 4, 13, 0)  # after the lunch break


def test_closes_at_joins_touching_ranges_and_is_none_when_closed():
    hours = BusinessHours("Europe/Berlin", (parse_day("08:00-12:00,12:00-18:00"),) * 7)
    assert hours.closes_at(at(2026, 11, 30, 9, 0)) == at(2026, 11, 30, 18, 0)
    assert hours.closes_at(at(2026, 11, 30, 19, 0)) is None
    always = BusinessHours("UTC", (parse_day("00:00-24:00"),) * 7)
    assert always.is_open(at(2026, 11, 30, 23, 59)) and always.closes_at(at(2026, 11, 30, 12, 0)) is None


def test_a_week_without_any_range_never_opens():
    assert BusinessHours("Europe/Berlin", ((),) * 7).next_opening(at(2026, 11, 30, 9, 0)) is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("8-18", "not a time range"),
        ("18:00-08:00", "past midnight"),
        ("25:00-26:00", "not a valid time"),
        ("08:00-24:30", "not a valid time"),
    ],
)
def test_bad_day_ranges_say_what_is_wrong(text, message):
    with pytest.raises(ConfigError, match=message):
        parse_day(text)


def test_day_values_closed_and_empty_mean_closed_and_overlaps_merge():
    assert parse_day(None) == parse_day("") == parse_day("closed") == ()
    assert parse_day("13:00-17:00, 08:00-12:00,11:00-12:30") == ((480, 750), (780, 1020))


def test_unknown_time_zone_and_bad_holiday_are_config_errors():
    with pytest.raises(ConfigError, match="Mars/Olympus"):
        BusinessHours("Mars/Olympus", ((),) * 7)
    with pytest.raises(ConfigError, match="2026-12-24"):
        parse_holiday("24.12.2026")


@pytest.mark.parametrize(
    ("lang", "now", "expected"),
    [
        ("de", at(2026, 12, 4, 12, 15), "heute ab 13:00 Uhr"),
        ("de", at(2026, 11, 30, 19, 0), "morgen ab 08:00 Uhr"),
        ("de", at(2026, 12, 5, 14, 0), "ab Montag, 08:00 Uhr"),
        ("de", at(2026, 12, 23, 19, 0), "ab Samstag, 09:00 Uhr"),
        ("en", at(2026, 12, 5, 14, 0), "from Monday at 08:00"),
        ("fr", at(2026, 11, 30, 19, 0), "tomorrow from 08:00"),  # English for other languages
    ],
)
def test_when_is_said_per_language_without_a_locale(lang, now, expected):
    opening = HOURS.next_opening(now)
    assert opening is not None and format_when(HOURS, opening, now, lang) == expected


def test_an_opening_more_than_a_week_ahead_names_the_date():
    hours = BusinessHours("Europe/Berlin", (parse_day("08:00-18:00"),) + ((),) * 6, frozenset({date(2026, 12, 7)}))
    now = at(2026, 12, 1, 9, 0)  # Tuesday; next Monday is a holiday
    opening = hours.next_opening(now)
    assert format_when(hours, opening, now, "de") == "ab Montag, 14.12., 08:00 Uhr"
    assert format_when(hours, opening, now, "en") == "from Monday, 14 December, at 08:00"


def test_promise_while_open_names_the_usual_answer_time():
    text = waiting_promise(CLIENT, "de", at(2026, 11, 30, 10, 0))
    assert text == "Jemand aus unserem Team meldet sich hier im Chat, meist innerhalb von 30 Minuten."
    assert "within 45 minutes" in waiting_promise(CLIENT, "en", at(2026, 11, 30, 10, 0), expected_minutes=45)


def test_promise_just_before_closing_says_until_when_and_the_next_opening():
    text = waiting_promise(CLIENT, "de", at(2026, 11, 30, 17, 45))
    assert text.startswith("Unser Team meldet sich hier im Chat: heute noch bis 18:00 Uhr, sonst morgen ab 08:00 Uhr.")
    assert "0800 123 4567 oder service@test.example" in text


def test_promise_while_closed_says_when_and_gives_the_contact():
    sunday = waiting_promise(CLIENT, "de", at(2026, 12, 6, 11, 0))
    assert sunday.startswith("Unser Team ist morgen ab 08:00 Uhr wieder da und antwortet Ihnen dann hier.")
    assert sunday.endswith("Eilt es? Sie erreichen uns auch unter 0800 123 4567 oder service@test.example.")
    saturday = waiting_promise(CLIENT, "en", at(2026, 12, 5, 14, 0))
    assert saturday.startswith("Our team is back from Monday at 08:00")
    holiday = waiting_promise(Client(hours=HOURS, tone="du"), "de", at(2026, 12, 24, 10, 0))
    assert holiday == "Unser Team ist ab Samstag, 09:00 Uhr wieder da und antwortet dir dann hier."


def test_promise_without_hours_is_neutral():
    text = waiting_promise(Client(contact="0800 1"), "de", at(2026, 12, 6, 3, 0))
    assert text == "Jemand aus unserem Team meldet sich hier im Chat. Eilt es? Sie erreichen uns auch unter 0800 1."
    assert waiting_promise(Client(), "en", 0) == "Someone from our team will reply here in the chat."
