"""Check knowledge answers against channel limits and house rules, for consultants.

Each answer is rendered exactly as the bot would send it, and every place where a
platform limit forced a visible change (a split, a cut word, a shortened title, buttons
turned into a numbered list) is a hard finding; house rules give soft ones.

Rules (hard = a platform limit, soft = a house rule):

| rule           | kind | measured                               | limit                     |
|----------------|------|----------------------------------------|---------------------------|
| text_length    | hard | the whole answer as one message        | text/caption/body limit   |
| word_length    | hard | a word or URL that had to be cut       | same                      |
| buttons        | hard | quick replies                          | buttons or list rows      |
| button_title   | hard | one quick reply title (it is shortened)| title limit               |
| bubble_length  | soft | the longest bubble                     | `HouseRules.max_bubble_chars` |
| bubbles        | soft | text bubbles                           | `HouseRules.max_bubbles`  |
| wall_of_text   | soft | the longest paragraph                  | `HouseRules.max_bubble_chars` |
| quick_replies  | soft | quick replies                          | `HouseRules.max_quick_replies` |
| literal_markup | soft | WhatsApp bubbles where a literal `*`/`_` becomes formatting | 0 |
| sms_ucs2       | soft | characters forcing UCS-2               | 0                         |
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from botkit.channels.limits import option_limit
from botkit.channels.markup import parse_markup
from botkit.channels.profiles import ChannelProfile, HouseRules, get_profile
from botkit.channels.render import Rendering, render_report
from botkit.channels.sms import prefer_gsm7, sms_info
from botkit.channels.split import measure_unit
from botkit.types import Draft, FaqEntry


@dataclass(frozen=True)
class LintFinding:
    """One broken limit of one entry on one channel; `hard` for platform limits."""

    entry_id: str
    channel: str
    rule: str
    measured: int
    limit: int
    hard: bool
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The stable JSON shape of `botkit lint --json`."""
        return asdict(self)


def lint_entries(entries: Sequence[FaqEntry], channels: Sequence[str], rules: HouseRules | None = None) -> list[LintFinding]:
    """Findings for every entry on every channel, in entry then channel order.

    An unknown channel name raises `ConfigError` before anything is checked.
    """
    rules = rules if rules is not None else HouseRules()
    profiles = [get_profile(c) for c in channels]
    findings: list[LintFinding] = []
    for entry in entries:
        draft = Draft(text=entry.answer, links=tuple(entry.links), quick_replies=tuple(entry.quick_replies))
        for profile in profiles:
            rendering = render_report(profile.name, draft, rules)
            findings.extend(_check(entry, profile, rules, rendering))
    return findings


def _check(entry: FaqEntry, profile: ChannelProfile, rules: HouseRules, r: Rendering) -> list[LintFinding]:
    out: list[LintFinding] = []

    def add(rule: str, measured: int, limit: int, hard: bool, note: str = "") -> None:
        out.append(LintFinding(entry.id, profile.name, rule, measured, limit, hard, note))

    texts = [m for m in r.messages if m.text]
    if r.length > r.limit.value:
        add("text_length", r.length, r.limit.value, True, f"over the {r.limit.what} limit: sent as {len(texts)} messages")
    for cost in r.cut_words:
        add("word_length", cost, r.limit.value, True, "a word or URL is cut inside")
    options = r.options
    if options.mode == "text" and profile.max_buttons > 0 and not r.text_forced_options:
        add("buttons", len(options.titles), options.count_limit, True, "shown as a numbered text list")
    unit = option_limit(profile, as_list=options.mode == "list").unit
    for title, shown in zip(options.titles, options.shown):
        if shown != title:
            add("button_title", measure_unit(unit, title), options.title_limit, True, f"shown as {shown!r}")

    longest = rules.max_bubble_chars
    slack = f"target {rules.bubble_chars} + {rules.bubble_slack:.0%}"
    if r.bubble_lengths and max(r.bubble_lengths) > longest:
        add("bubble_length", max(r.bubble_lengths), longest, False, slack)
    if len(r.bubble_lengths) > rules.max_bubbles:
        add("bubbles", len(r.bubble_lengths), rules.max_bubbles, False)
    wall = _longest_paragraph(entry.answer, profile, rules)
    if wall > longest:
        add("wall_of_text", wall, longest, False, "add a blank line or shorten")
    n_options = len(options.titles)
    if n_options > rules.max_quick_replies:
        add("quick_replies", n_options, rules.max_quick_replies, False)
    if r.markup_drift:
        add("literal_markup", r.markup_drift, 0, False, "a literal * or _ shows as formatting on WhatsApp (no escape exists); reword")
    if profile.length_unit == "sms":
        sent = "".join(m.text for m in texts)
        info = sms_info(sent)
        if info.encoding == "UCS-2":
            count = sum(sent.count(c) for c in info.ucs2_chars)
            chars = ", ".join(f"{c!r} U+{ord(c):04X}" for c in info.ucs2_chars[:8])
            add("sms_ucs2", count, 0, False, f"UCS-2 (70 per segment, not 160): {chars}")
    return out


def _longest_paragraph(answer: str, profile: ChannelProfile, rules: HouseRules) -> int:
    visible = parse_markup(answer.replace("\r\n", "\n")).text
    if profile.length_unit == "sms" and rules.sms_prefer_gsm7:
        visible = prefer_gsm7(visible)
    paragraphs = re.split(r"\n[ \t]*\n", visible)
    return max((measure_unit(profile.length_unit, p.strip()) for p in paragraphs), default=0)


def has_hard_findings(findings: Sequence[LintFinding]) -> bool:
    """True if any platform limit is broken: `botkit lint` then exits non-zero."""
    return any(f.hard for f in findings)


def format_findings(findings: Sequence[LintFinding]) -> str:
    """A plain-text table of findings with a summary line, for `botkit lint`."""
    if not findings:
        return "No findings: every answer fits every checked channel and house rule."
    header = ("entry", "channel", "rule", "measured", "limit", "kind", "note")
    rows = [(f.entry_id, f.channel, f.rule, str(f.measured), str(f.limit), "HARD" if f.hard else "house", f.note) for f in findings]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header) - 1)]
    right = {3, 4}

    def line(row: Sequence[str]) -> str:
        cells = [row[i].rjust(widths[i]) if i in right else row[i].ljust(widths[i]) for i in range(len(widths))]
        return "  ".join([*cells, row[-1]]).rstrip()

    hard = sum(f.hard for f in findings)
    entries = len({f.entry_id for f in findings})
    summary = f"{len(findings)} findings ({hard} hard) in {entries} entries"
    return "\n".join([line(header), *(line(r) for r in rows), "", summary])
