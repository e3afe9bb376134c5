"""Check a sent message against its channel's hard limits (the platform would reject or cut it).

`botkit.channels.lint_entries` checks knowledge answers before they are sent; this checks
what the bot actually sent, including disclosures, clarifications and handover texts.
"""

from __future__ import annotations

from botkit.channels import get_profile, measure
from botkit.channels.markup import check_markdown_v2, to_plain
from botkit.errors import ChannelError
from botkit.types import Message


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
    limit, what = profile.max_text, "text"
    if message.image is not None and message.text:
        limit, what = profile.max_caption, "caption"
    elif message.quick_replies:
        limit, what = profile.max_interactive_body, "interactive body"
    length = measure(message.channel, visible)
    if length > limit:
        problems.append(f"{what} is {length} long, the {message.channel} limit is {limit}")
    problems.extend(_option_problems(message))
    return problems


def _option_problems(message: Message) -> list[str]:
    profile = get_profile(message.channel)
    count = len(message.quick_replies)
    if not count:
        return []
    # WhatsApp sends options as reply buttons or, when they do not fit, as a list message with longer titles.
    as_list = profile.max_list_rows > 0 and message.payload.get("interactive", {}).get("type") == "list"
    most = profile.max_list_rows if as_list else profile.max_buttons
    title_limit = profile.max_row_title if as_list else profile.max_button_title
    problems = []
    if count > most:
        problems.append(f"{count} quick replies, the {message.channel} limit is {most}")
    for title in message.quick_replies:
        if measure(message.channel, title) > title_limit:
            problems.append(f"quick reply {title!r} is longer than {title_limit}")
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
