"""Bot replies drawn as HTML chat bubbles in the look of each channel.

An approximation for the workshop, not the apps' real rendering: colours (each platform's
`look` in `botkit.platforms`), bubble sides, buttons, list messages and split messages are
shown so a client sees how short and how many messages a reply becomes on each channel.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from botkit.channels.limits import visible_text
from botkit.channels.markup import BOLD, ITALIC, find_urls, parse_markup
from botkit.channels.profiles import get_profile
from botkit.platforms import PLATFORMS
from botkit.platforms.base import Choices, Look
from botkit.types import Message

CSS = """
.bk-chat{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;font-size:14px;padding:10px;border-radius:8px;
  display:flex;flex-direction:column;gap:4px;min-height:120px}
.bk-row{display:flex;flex-direction:column;max-width:78%}
.bk-row.bot{align-self:flex-start}.bk-row.user{align-self:flex-end;align-items:flex-end}
.bk-bubble{padding:7px 10px;border-radius:10px;white-space:pre-wrap;word-wrap:break-word;line-height:1.35;
  box-shadow:0 1px 0.5px rgba(0,0,0,.13)}
.bk-buttons{display:flex;flex-wrap:wrap;gap:4px;margin-top:3px}
.bk-button{padding:5px 10px;border-radius:14px;font-size:13px;border:1px solid rgba(0,0,0,.12)}
.bk-buttons.stacked{flex-direction:column}.bk-buttons.stacked .bk-button{border-radius:6px;text-align:center}
.bk-list{font-size:12px;color:#555;margin:3px 0 0 6px}
.bk-meta{font-size:11px;color:#667;margin:1px 4px 6px}
.bk-meta b{color:#333}
.bk-image{font-size:12px;color:#555;border:1px dashed #999;border-radius:6px;padding:14px 10px;background:#fafafa}
.bk-note{align-self:center;font-size:12px;color:#555;background:rgba(255,255,255,.8);border-radius:6px;padding:3px 8px;margin:4px}
"""


def look(channel: str) -> Look:
    """The colours of a channel's platform (`Platform.look`; the web chat's for an unknown name)."""
    return PLATFORMS.get(channel, PLATFORMS["web"]).look


def display_name(channel: str) -> str:
    """A channel's platform as people write it (`Platform.display_name`); an unknown name as it is."""
    platform = PLATFORMS.get(channel)
    return platform.display_name if platform is not None else channel


def user_bubble(text: str, channel: str) -> str:
    """The user's message as a bubble on the right."""
    colours = look(channel)
    style = f"background:{colours.user};color:{colours.user_text}"
    return f'<div class="bk-row user"><div class="bk-bubble" style="{style}">{_linked(text)}</div></div>'


def bot_bubbles(messages: Sequence[Message], channel: str) -> str:
    """The bot's messages as bubbles on the left, with their buttons or list."""
    colours = look(channel)
    style = f"background:{colours.bot};color:{colours.bot_text}"
    rows = []
    for message in messages:
        parts = []
        if message.image:
            parts.append(f'<div class="bk-image">🖼 image: {html.escape(message.image)}</div>')
        if message.text:
            parts.append(f'<div class="bk-bubble" style="{style}">{_body(message)}</div>')
        parts.append(_options(message, colours))
        rows.append(f'<div class="bk-row bot">{"".join(parts)}</div>')
    return "".join(rows)


def note(text: str) -> str:
    """A centred grey line in the chat, e.g. "a person has taken over"."""
    return f'<div class="bk-note">{html.escape(text)}</div>'


def chat(inner: str, channel: str) -> str:
    """Wrap bubbles in the channel's chat background."""
    colours = look(channel)
    return f'<style>{CSS}</style><div class="bk-chat" style="background:{colours.background}">{inner}</div>'


def reply_options(message: Message) -> list[tuple[str, str]]:
    """(shown title, text the platform sends back when tapped) of a message's buttons or list rows."""
    return list(_choices(message).items)


def _choices(message: Message) -> Choices:
    platform = PLATFORMS.get(message.channel)
    return platform.choices(message) if platform is not None else Choices()


def _body(message: Message) -> str:
    if get_profile(message.channel).markup == "whatsapp":  # its markers stay in the text: show them as styles
        styled = parse_markup(message.text)
        return _styled_html(styled.text, styled.flags)
    return _linked(visible_text(message))


def _styled_html(text: str, flags: tuple[int, ...]) -> str:
    out = []
    start = 0
    for i in range(1, len(text) + 1):
        if i == len(text) or flags[i] != flags[start]:
            out.append(_wrap(_linked(text[start:i]), flags[start]))
            start = i
    return "".join(out)


def _wrap(chunk: str, flag: int) -> str:
    if flag & BOLD:
        chunk = f"<b>{chunk}</b>"
    if flag & ITALIC:
        chunk = f"<i>{chunk}</i>"
    return chunk


def _linked(text: str) -> str:
    out, last = [], 0
    for start, end in find_urls(text):
        url = text[start:end]
        href = url if re.match(r"https?://", url, re.IGNORECASE) else f"https://{url}"
        out.append(html.escape(text[last:start]))
        out.append(f'<a href="{html.escape(href)}" target="_blank">{html.escape(url)}</a>')
        last = end
    out.append(html.escape(text[last:]))
    return "".join(out)


def _options(message: Message, colours: Look) -> str:
    choices = _choices(message)
    options = choices.items
    if not options:
        return ""
    style = f"background:{colours.button};color:{colours.button_text}"
    if choices.menu is not None:
        label = html.escape(choices.menu)
        rows = "".join(f"<div>• {html.escape(title)}</div>" for title, _ in options)
        return f'<div class="bk-buttons stacked"><span class="bk-button" style="{style}">☰ {label}</span></div><div class="bk-list">{rows}</div>'
    stacked = " stacked" if colours.stacked_buttons else ""
    buttons = "".join(f'<span class="bk-button" style="{style}">{html.escape(title)}</span>' for title, _ in options)
    return f'<div class="bk-buttons{stacked}">{buttons}</div>'
