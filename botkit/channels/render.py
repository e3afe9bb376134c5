"""Turn a bot reply (`Draft`) into the messages one channel sends.

The pipeline: clean the text, append links (and, where images cannot be sent, the image
address), plan the quick replies (buttons, a WhatsApp list, or a numbered text list),
split into bubbles within the hard limit and near the house target, write each bubble in
the channel's markup; the platform (`botkit.platforms`) wraps each in its send API's body (without the
recipient). Nothing here talks to the network, and nothing raises for any input text.

Empty replies: a draft whose text, links, quick replies and image are all empty renders
to no message at all. Quick replies with an empty text become a numbered list, because
every platform needs a text to attach buttons to and botkit invents no words.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from botkit.channels.limits import TextLimit, option_limit, text_limit
from botkit.channels.markup import Styled, parse_markup, render_markup
from botkit.channels.profiles import ChannelProfile, HouseRules, get_profile
from botkit.channels.sms import prefer_gsm7
from botkit.channels.split import (
    char_cost,
    measure_unit,
    shorten,
    shorten_unique,
    split_styled,
    truncate_bytes,
)
from botkit.types import Draft, Message

OptionsMode = Literal["none", "buttons", "list", "text"]


@dataclass(frozen=True)
class Options:
    """How a reply's quick replies are shown on one channel.

    `mode` is "buttons" (reply buttons, quick replies or an inline keyboard), "list" (a
    WhatsApp list message), "text" (a numbered list at the end of the text: the user
    answers with the number or the words) or "none". `titles` are the cleaned originals
    in order, `shown` what the user sees on the buttons or rows, `ids` the payload or
    callback data that comes back when one is tapped (the original title, cut to the
    byte limit, with "#n" appended in the rare case two would collide).
    """

    mode: OptionsMode
    titles: tuple[str, ...] = ()
    shown: tuple[str, ...] = ()
    ids: tuple[str, ...] = ()
    descriptions: tuple[str, ...] = ()  # WhatsApp list rows; "" where the title fits
    title_limit: int = 0
    count_limit: int = 0  # most options the channel shows as buttons or list rows


@dataclass(frozen=True)
class Rendering:
    """The messages of one reply plus the measurements lint reports on."""

    messages: tuple[Message, ...]
    limit: TextLimit  # the text limit that applied (`botkit.channels.limits`: smaller for captions, interactive)
    length: int  # the whole text as one message, in the channel's unit
    bubble_lengths: tuple[int, ...]
    cut_words: tuple[int, ...]
    options: Options
    text_forced_options: bool  # quick replies became text because the text was empty
    # WhatsApp bubbles in which a literal "*" or "_" will be read as formatting: WhatsApp
    # has no escape character, so only rewording the answer helps.
    markup_drift: int = 0


def render(channel: str, draft: Draft, rules: HouseRules | None = None) -> list[Message]:
    """Render a reply into the messages a channel sends, within every hard limit.

    Quick replies sit on the last text bubble; an image goes first (as the caption
    carrier where the channel has captions). A draft with nothing to say (blank text, no
    links, quick replies or image) gives `[]`. Never raises for any text; an unknown
    channel raises `ConfigError`.
    """
    return list(render_report(channel, draft, rules).messages)


def render_report(channel: str, draft: Draft, rules: HouseRules | None = None) -> Rendering:
    """Like `render`, but also return the measurements behind the messages."""
    profile = get_profile(channel)
    rules = rules if rules is not None else HouseRules()
    gsm = profile.length_unit == "sms" and rules.sms_prefer_gsm7

    def clean(value: object) -> str:
        text = _clean(value)
        return prefer_gsm7(text) if gsm else text

    text = clean(draft.text)
    image = clean(draft.image).strip() if draft.image else ""
    extras: list[str] = []
    for link in (clean(x).strip() for x in draft.links):
        if link and link not in text and link not in extras:
            extras.append(link)
    if image and (profile.length_unit == "sms" or rules.max_images < 1):
        # No image messages here: the address travels as a link, nothing is dropped.
        if image not in text and image not in extras:
            extras.append(image)
        image = ""

    body = parse_markup(text)
    if not body.text.strip():
        body = Styled.plain("")
    if extras:
        body = _join(body, "\n", Styled.plain("\n".join(extras)))
    text_blank = not body.text.strip()

    titles = _clean_titles([clean(t) for t in draft.quick_replies])
    options = _plan_options(profile, titles, text_blank)
    if options.mode == "text":
        numbered = "\n".join(f"{i}. {t}" for i, t in enumerate(titles, 1))
        body = _join(body, "\n\n", Styled.plain(numbered))

    limit = text_limit(profile, image=bool(image), options=options.mode in ("buttons", "list"))
    hard = limit.value
    split = split_styled(
        body,
        target=rules.bubble_chars,
        hard=hard,
        cost_of=char_cost(profile.length_unit),
        marker_cost=1 if profile.markup == "whatsapp" else 0,
        max_chunks=rules.max_bubbles,
        slack=rules.bubble_slack,
    )
    bubbles = [render_markup(chunk, profile.markup) for chunk in split.chunks]

    def length(chunk: Styled, rendered: str) -> int:
        # Telegram counts the text after entity parsing: markup and escapes are free.
        if profile.markup == "markdownv2":
            return measure_unit(profile.length_unit, chunk.text)
        return measure_unit(profile.length_unit, rendered)

    whole = body[len(body.text) - len(body.text.lstrip()) : len(body.text.rstrip())]
    # Each platform wraps the bubbles into its send API's bodies; platforms build on this
    # module, so the registry is looked up when rendering, not at import.
    from botkit.platforms import get_platform

    messages = get_platform(profile.name).build(profile, rules, list(bubbles), options, image or None)
    return Rendering(
        messages=tuple(messages),
        limit=limit,
        length=length(whole, render_markup(whole, profile.markup)),
        bubble_lengths=tuple(length(c, b) for c, b in zip(split.chunks, bubbles)),
        cut_words=split.cut_words,
        options=options,
        text_forced_options=bool(titles) and text_blank and profile.max_buttons > 0,
        markup_drift=sum(parse_markup(b).text != c.text for c, b in zip(split.chunks, bubbles)) if profile.markup == "whatsapp" else 0,
    )


def _clean(value: object) -> str:
    """Text that can be encoded: lone surrogates replaced, line ends unified."""
    text = value if isinstance(value, str) else ("" if value is None else str(value))
    # Surrogate pairs from JSON-style escapes join into one character; lone ones (broken
    # decoding) become U+FFFD rather than crashing the UTF-8 encoder later.
    text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _join(head: Styled, separator: str, tail: Styled) -> Styled:
    if not head.text.strip():
        return tail
    return head + Styled.plain(separator) + tail


def _clean_titles(raw: list[str]) -> tuple[str, ...]:
    """Visible, single-line, non-empty titles; later duplicates (any case) dropped."""
    seen: set[str] = set()
    titles: list[str] = []
    for title in raw:
        # Buttons show no markup: "*Ja*" is "Ja".
        plain = " ".join(parse_markup(title).text.split())
        if plain and plain.casefold() not in seen:
            seen.add(plain.casefold())
            titles.append(plain)
    return tuple(titles)


def _plan_options(profile: ChannelProfile, titles: tuple[str, ...], text_blank: bool) -> Options:
    if not titles:
        return Options("none")
    buttons, rows = option_limit(profile, as_list=False), option_limit(profile, as_list=True)

    def measure(s: str) -> int:
        return measure_unit(buttons.unit, s)

    n = len(titles)
    count_limit = max(buttons.count, rows.count)
    if text_blank or n > count_limit:
        return Options("text", titles, count_limit=count_limit)
    ids = _reply_ids(titles, profile.max_reply_id_bytes)
    fits_buttons = n <= buttons.count and all(measure(t) <= buttons.title for t in titles)
    if rows.count and not fits_buttons:
        # WhatsApp: a list message has room for 24-character titles and shows the full
        # text in the row description, so prefer it to cutting button titles to 20.
        shown = tuple(shorten_unique(titles, rows.title, measure))
        descriptions = tuple("" if s == t else shorten(t, profile.max_row_description, measure) for s, t in zip(shown, titles))
        return Options("list", titles, shown, ids, descriptions, rows.title, count_limit)
    shown = tuple(shorten_unique(titles, buttons.title, measure))
    return Options("buttons", titles, shown, ids, (), buttons.title, count_limit)


def _reply_ids(titles: tuple[str, ...], limit: int) -> tuple[str, ...]:
    ids: list[str] = []
    for i, title in enumerate(titles, 1):
        rid = truncate_bytes(title, limit)
        suffix = ""
        while rid in ids or not rid:
            suffix += f"#{i}"
            rid = truncate_bytes(title, limit - len(suffix)) + suffix
        ids.append(rid)
    return tuple(ids)
