"""Business hours of the team behind the bot (time zone, weekly ranges, holidays) and the
promise a waiting user gets: when a person will answer.

```python
week = tuple(parse_day(day) for day in ("08:00-18:00",) * 5 + ("09:00-13:00", None))
hours = BusinessHours("Europe/Berlin", week, frozenset({parse_holiday("2026-12-24")}))
hours.is_open(time.time())
```
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from botkit.errors import ConfigError
from botkit.policy.wording import say
from botkit.types import Client

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HORIZON_DAYS = 400  # a year of holidays at most; beyond that nobody promises a time
_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")

Range = tuple[int, int]  # minutes since local midnight: [start, end)


@dataclass(frozen=True)
class BusinessHours:
    """When a person is there to answer, in the team's local time.

    Args:
        week: seven tuples of ranges (Monday first), minutes since local midnight; a day
            without ranges is closed.
        holidays: local dates on which the team is closed all day.
    """

    timezone: str
    week: tuple[tuple[Range, ...], ...]
    holidays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        zone(self.timezone)
        if len(self.week) != 7:
            raise ConfigError(f"BusinessHours.week needs 7 days (Monday first), got {len(self.week)}")

    @property
    def tz(self) -> ZoneInfo:
        return zone(self.timezone)

    def is_open(self, at: float) -> bool:
        """Is a person there at the instant `at` (seconds since the epoch)?"""
        return self._range_at(at) is not None

    def next_opening(self, at: float) -> float | None:
        """When a person is next there: `at` itself while open, else the start of the next range.

        None when no range opens within about a year (e.g. every day closed).
        """
        if self.is_open(at):
            return at
        day = datetime.fromtimestamp(at, self.tz).date()
        for offset in range(_HORIZON_DAYS):
            current = day + timedelta(days=offset)
            for start, _ in self._ranges(current):
                opening = self._instant(current, start)
                if opening >= at:
                    return opening
        return None

    def closes_at(self, at: float) -> float | None:
        """When the team leaves, if it is there at `at` (ranges that touch count as one)."""
        found = self._range_at(at)
        if found is None:
            return None
        closing = self._instant(*found)
        for _ in range(_HORIZON_DAYS * 4):  # bounded: "00:00-24:00" every day would never close
            further = self._range_at(closing)
            if further is None:
                return closing
            closing = self._instant(*further)
        return None

    def _range_at(self, at: float) -> tuple[date, int] | None:
        """The local date and the end minute of the range holding `at`."""
        local = datetime.fromtimestamp(at, self.tz)
        minute = local.hour * 60 + local.minute + local.second / 60
        for start, end in self._ranges(local.date()):
            if start <= minute < end:
                return local.date(), end
        return None

    def _ranges(self, day: date) -> tuple[Range, ...]:
        return () if day in self.holidays else self.week[day.weekday()]

    def _instant(self, day: date, minute: int) -> float:
        wall = datetime.combine(day, time()) + timedelta(minutes=minute)
        return wall.replace(tzinfo=self.tz).timestamp()


def zone(name: str) -> ZoneInfo:
    """The IANA time zone `name`; `ConfigError` if unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{name!r} is not a known time zone; use an IANA name such as 'Europe/Berlin'") from None


def parse_day(text: str | None) -> tuple[Range, ...]:
    """Ranges of one day from "08:00-12:00,13:00-17:00"; empty, None or "closed" is closed."""
    if text is None or not text.strip() or text.strip().lower() == "closed":
        return ()
    ranges: list[Range] = []
    for part in text.split(","):
        match = _RANGE.match(part)
        if match is None:
            raise ConfigError(f"{part.strip()!r} is not a time range like '08:00-18:00'")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2):
            raise ConfigError(f"{part.strip()!r} is not a valid time of day (00:00 to 24:00)")
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if end <= start:
            raise ConfigError(f"{part.strip()!r} ends before it starts; a range cannot run past midnight, split it")
        ranges.append((start, end))
    return _merge(sorted(ranges))


def _merge(ranges: list[Range]) -> tuple[Range, ...]:
    merged: list[Range] = []
    for start, end in ranges:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return tuple(merged)


def parse_holiday(text: str | date) -> date:
    """A holiday from an ISO date ("2026-12-24")."""
    if isinstance(text, date):
        return text
    try:
        return date.fromisoformat(str(text).strip())
    except ValueError:
        raise ConfigError(f"{text!r} is not a date like 2026-12-24") from None


def waiting_promise(client: Client, lang: str, now: float, expected_minutes: float | None = None) -> str:
    """What a user waiting for a person is told: soon (open), when (closed), or neutral (no hours).

    Args:
        expected_minutes: usual answer time while open; the client's `handover_minutes` if None.
    """
    hours = client.hours
    minutes = client.handover_minutes if expected_minutes is None else expected_minutes
    if hours is None:
        return say("waiting_neutral", lang, client)
    closing = hours.closes_at(now)
    if hours.is_open(now) and (closing is None or closing - now >= minutes * 60):
        return say("waiting_open", lang, client, minutes=str(round(minutes)))
    opening = hours.next_opening(closing if closing is not None else now)
    if opening is None:
        return say("waiting_neutral", lang, client)
    when = format_when(hours, opening, now, lang)
    if closing is not None:
        return say("waiting_closing_soon", lang, client, until=format_time(hours, closing, lang), when=when)
    return say("waiting_closed", lang, client, when=when)


# Names and formats per language, in tables so no system locale is needed.
_WEEKDAYS = {
    "de": ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
_MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December")
_WHEN = {
    "de": {"today": "heute ab {time}", "tomorrow": "morgen ab {time}", "week": "ab {weekday}, {time}", "later": "ab {weekday}, {date}, {time}"},
    "en": {"today": "today from {time}", "tomorrow": "tomorrow from {time}", "week": "from {weekday} at {time}", "later": "from {weekday}, {date}, at {time}"},
}


def format_time(hours: BusinessHours, at: float, lang: str) -> str:
    """A local time of day: "08:00 Uhr" (German), "08:00" (English)."""
    local = datetime.fromtimestamp(at, hours.tz)
    clock = f"{local:%H:%M}"
    return f"{clock} Uhr" if _lang(lang) == "de" else clock


def format_when(hours: BusinessHours, at: float, now: float, lang: str) -> str:
    """From when on, seen from `now`: "morgen ab 08:00 Uhr", "ab Montag, 08:00 Uhr", "from Monday at 08:00"."""
    lang = _lang(lang)
    local = datetime.fromtimestamp(at, hours.tz)
    days = (local.date() - datetime.fromtimestamp(now, hours.tz).date()).days
    kind = "today" if days <= 0 else "tomorrow" if days == 1 else "week" if days < 7 else "later"
    day = f"{local.day}.{local.month}." if lang == "de" else f"{local.day} {_MONTHS_EN[local.month - 1]}"
    return _WHEN[lang][kind].format(time=format_time(hours, at, lang), weekday=_WEEKDAYS[lang][local.weekday()], date=day)


def _lang(lang: str) -> str:
    return lang if lang in _WHEN else "en"
