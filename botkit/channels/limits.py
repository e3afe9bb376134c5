"""Which hard limit of a channel applies to a message, and the one check of a message against them.

Rendering (`render_report`) keeps every message within these limits, `lint` reports where keeping
them changed a knowledge answer, and the evaluation and the workbench check and show what the bot
really sent (disclosures, clarifications, handover texts too) with `message_problems` and
`visible_text`. The limits themselves are cited data in `botkit.channels.profiles`.
"""

from __future__ import annotations

from dataclasses import dataclass

from botkit.channels.markup import check_markdown_v2, to_plain
from botkit.channels.profiles import ChannelProfile, LengthUnit, get_profile
from botkit.channels.split import measure_unit
from botkit.errors import ChannelError
from botkit.types import Message


@dataclass(frozen=True, order=True)
class TextLimit:
    """The most a message's text may hold, in the channel's unit, and which limit that is."""

    value: int
    what: str  # "text", "interactive body" or "caption"


@dataclass(frozen=True)
class OptionLimit:
    """How many quick replies a channel shows as buttons (or list rows), and how long their titles may be."""

    count: int
    title: int
    unit: LengthUnit


def text_limit(profile: ChannelProfile, *, image: bool, options: bool) -> TextLimit:
    """The smallest limit on a message's text: the text's, the interactive body's when it carries
    buttons or a list, the caption's when it carries an image on a channel with captions."""
    limit = TextLimit(profile.max_text, "text")
    if options and profile.max_interactive_body:
        limit = min(limit, TextLimit(profile.max_interactive_body, "interactive body"))
    if image and profile.max_caption:
        limit = min(limit, TextLimit(profile.max_caption, "caption"))
    return limit


def option_limit(profile: ChannelProfile, *, as_list: bool) -> OptionLimit:
    """The limits of reply buttons, or of a list message's rows (WhatsApp) when `as_list`."""
    unit: LengthUnit = "utf16" if profile.length_unit == "utf16" else "codepoints"
    if as_list:
        return OptionLimit(profile.max_list_rows, profile.max_row_title, unit)
    return OptionLimit(profile.max_buttons, profile.max_button_title, unit)


def message_problems(message: Message) -> list[str]:
    """Every hard limit `message` breaks on its channel, as short sentences; [] if it fits."""
    profile = get_profile(message.channel)
    problems: list[str] = []
    visible = message.text
    if profile.markup == "markdownv2":
        try:
            visible = check_markdown_v2(message.text)
        except ChannelError as exc:
            problems.append(f"invalid MarkdownV2, Telegram would reject it: {exc}")
    if not message.text.strip() and message.image is None:
        problems.append("empty message")
    limit = text_limit(profile, image=message.image is not None and bool(message.text), options=bool(message.quick_replies))
    length = measure_unit(profile.length_unit, visible)
    if length > limit.value:
        problems.append(f"{limit.what} is {length} long, the {message.channel} limit is {limit.value}")
    return problems + _option_problems(profile, message)


def _option_problems(profile: ChannelProfile, message: Message) -> list[str]:
    count = len(message.quick_replies)
    if not count:
        return []
    # WhatsApp sends options as reply buttons or, when they do not fit, as a list message with longer titles.
    as_list = profile.max_list_rows > 0 and message.payload.get("interactive", {}).get("type") == "list"
    limit = option_limit(profile, as_list=as_list)
    problems = []
    if count > limit.count:
        problems.append(f"{count} quick replies, the {message.channel} limit is {limit.count}")
    for title in message.quick_replies:
        if measure_unit(limit.unit, title) > limit.title:
            problems.append(f"quick reply {title!r} is longer than {limit.title}")
    return problems


def visible_text(message: Message) -> str:
    """What the user reads: markup removed, Telegram escapes resolved."""
    markup = get_profile(message.channel).markup
    if markup == "markdownv2":
        try:
            return check_markdown_v2(message.text)
        except ChannelError:  # invalid markup is reported by `message_problems`; read it as written
            return message.text
    return to_plain(message.text) if markup == "whatsapp" else message.text
