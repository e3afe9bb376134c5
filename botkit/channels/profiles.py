"""Channel limits as versioned, cited data, and the house rules for short messages.

Every platform limit carries its source and how well it was verified, because platforms
change them and SDKs hard-code stale values (see platform-rules.md, pain point 11). The
values below come from `shared/research/platform-rules.md` (collected 2026-11); when a
platform changes a limit, change the value, its citation and `checked` together.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date
from typing import Literal

from botkit.errors import ConfigError

Status = Literal["official", "secondary", "unverified", "house"]
LengthUnit = Literal["codepoints", "utf16", "sms"]
Markup = Literal["whatsapp", "markdownv2", "plain"]

CHANNELS: tuple[str, ...] = ("whatsapp", "messenger", "telegram", "sms", "web")

# The day the values were last compared with platform-rules.md.
_CHECKED = date(2026, 11, 25)


@dataclass(frozen=True)
class Citation:
    """Where a limit comes from and how far it was verified.

    `status` is "official" (the platform's own page), "secondary" (SDKs, vendors, quoted
    error strings), "unverified" (no reliable source found) or "house" (botkit's own choice
    where the platform documents nothing).
    """

    source: str
    status: Status
    note: str = ""

    @property
    def verified(self) -> bool:
        """True only when the value was read on the platform's own documentation."""
        return self.status == "official"


@dataclass(frozen=True)
class SmsSegments:
    """Characters (septets or UTF-16 units) per SMS segment, single and concatenated."""

    gsm7_single: int = 160
    gsm7_concat: int = 153
    ucs2_single: int = 70
    ucs2_concat: int = 67


@dataclass(frozen=True, kw_only=True)
class ChannelProfile:
    """The hard limits of one channel; a limit of 0 means the feature does not exist.

    Lengths are in `length_unit`: "codepoints" (Meta says "characters"), "utf16" (Telegram
    counts UTF-16 code units) or "sms" (GSM-7 septets, or UTF-16 units once one character
    forces UCS-2). Telegram limits apply to the text after entity parsing, so markup and
    escapes do not count there; WhatsApp counts its `*`/`_` markers.
    """

    name: str
    max_text: int
    max_caption: int  # 0: images carry no caption, the image is a message of its own
    max_interactive_body: int  # body of a message that carries buttons or a list
    max_buttons: int  # quick replies / reply buttons per message
    max_button_title: int
    max_list_rows: int  # WhatsApp list messages; 0 elsewhere
    max_row_title: int = 0
    max_row_description: int = 0
    max_list_button: int = 0  # the label of the button that opens a list
    max_reply_id_bytes: int  # payload / id / callback_data of one quick reply
    length_unit: LengthUnit
    markup: Markup
    sms: SmsSegments | None = None
    checked: date = _CHECKED
    citations: tuple[tuple[str, Citation], ...] = field(default=(), compare=False)

    def citation(self, limit: str) -> Citation:
        """The source of one limit, e.g. `profile.citation("max_text")`."""
        for name, cite in self.citations:
            if name == limit:
                return cite
        names = [f.name for f in fields(self)]
        if limit not in names:
            raise ConfigError(f"{self.name} has no limit {limit!r}; known: {', '.join(names)}")
        return Citation(source="", status="unverified", note="no citation recorded")

    @property
    def verified(self) -> dict[str, bool]:
        """Per cited limit: was it verified on the platform's own documentation?"""
        return {name: cite.verified for name, cite in self.citations}


_WA_DOCS = "developers.facebook.com/documentation/business-messaging/whatsapp/messages"
_MSG_DOCS = "developers.facebook.com/documentation/business-messaging/messenger-platform"

WHATSAPP = ChannelProfile(
    name="whatsapp",
    max_text=4096,
    max_caption=1024,
    max_interactive_body=1024,
    max_buttons=3,
    max_button_title=20,
    max_list_rows=10,
    max_row_title=24,
    max_row_description=72,
    max_list_button=20,
    max_reply_id_bytes=200,
    length_unit="codepoints",
    markup="whatsapp",
    citations=(
        (
            "max_text",
            Citation(
                "Meta error \"(#100) Param text['body'] must be at most 4096 characters long.\" "
                "(Tanzania-AI-Community/twiga PR #327); docs.360dialog.com text-messages",
                "secondary",
                "the error string is Meta's own",
            ),
        ),
        ("max_caption", Citation("nyaruka/courier PR #1081 review; Gupshup reply node", "secondary")),
        ("max_interactive_body", Citation("nyaruka/courier PR #1081; developer.exotel.com reply buttons body 'max 1,024'", "secondary")),
        ("max_buttons", Citation(f"{_WA_DOCS}/interactive-reply-buttons-messages ('up to three predefined replies')", "official")),
        (
            "max_button_title",
            Citation(
                "whatsapp.github.io/WhatsApp-Nodejs-SDK/api-reference/types/ButtonObject "
                "('Maximum length of 20 characters'); titles must be unique, no markdown",
                "official",
            ),
        ),
        ("max_list_rows", Citation(f"{_WA_DOCS}/interactive-list-messages ('up to 10 rows for all sections combined')", "official")),
        ("max_row_title", Citation("whatsapp.github.io/WhatsApp-Nodejs-SDK/api-reference/types/RowObject", "official")),
        ("max_row_description", Citation("whatsapp.github.io/WhatsApp-Nodejs-SDK/api-reference/types/RowObject", "official")),
        (
            "max_list_button",
            Citation("docs.gupshup.io list-node (20); hubtype/botonic PR #2801 (24)", "secondary", "sources conflict; the smaller value is used"),
        ),
        (
            "max_reply_id_bytes",
            Citation("button id <= 256, row id <= 200 characters (Meta Node SDK)", "official", "the smaller value is used, counted in UTF-8 bytes to be safe"),
        ),
        ("length_unit", Citation("Meta says 'characters'", "unverified", "counted as code points; emoji-heavy text near 4096 is untested")),
    ),
)

MESSENGER = ChannelProfile(
    name="messenger",
    max_text=2000,
    max_caption=0,
    max_interactive_body=2000,
    max_buttons=13,
    max_button_title=20,
    max_list_rows=0,
    max_reply_id_bytes=1000,
    length_unit="codepoints",
    markup="plain",
    citations=(
        (
            "max_text",
            Citation(
                "Send API reference 'Must be UTF-8 and has a 2000 character limit' as quoted in microsoft/botframework-sdk#4261 and @warriorteam/messenger-sdk",
                "secondary",
                "historically 320 and 640; nyaruka/courier still uses 1000",
            ),
        ),
        ("max_caption", Citation("image attachments carry no text in the Send API", "secondary")),
        ("max_buttons", Citation(f"{_MSG_DOCS}/send-messages/quick-replies ('up to 13 buttons')", "official")),
        (
            "max_button_title",
            Citation(
                "developers.facebook.com/docs/messenger-platform/instagram/features/quick-replies ('up to 20 characters before being truncated'); Rasa docs",
                "secondary",
                "official for Instagram only",
            ),
        ),
        ("max_reply_id_bytes", Citation("quick reply payload, 1000 characters", "unverified", "not in platform-rules.md; counted in UTF-8 bytes to be safe")),
        ("length_unit", Citation("Meta says 'characters'", "unverified")),
    ),
)

TELEGRAM = ChannelProfile(
    name="telegram",
    max_text=4096,
    max_caption=1024,
    max_interactive_body=4096,
    max_buttons=10,
    max_button_title=64,
    max_list_rows=0,
    max_reply_id_bytes=64,
    length_unit="utf16",
    markup="markdownv2",
    citations=(
        ("max_text", Citation("core.telegram.org/bots/api/methods/sendmessage ('1-4096 characters after entities parsing')", "official")),
        ("max_caption", Citation("teloxide-core docs generated from the spec ('0-1024 characters after entities parsing')", "secondary")),
        ("max_buttons", Citation("no documented maximum found", "house", "more quick replies become a numbered list")),
        ("max_button_title", Citation("no documented maximum found; clients cut long labels visually", "house")),
        ("max_reply_id_bytes", Citation("grammy.dev/ref/types/inlinekeyboardbutton/callbackbutton (callback_data 1-64 bytes)", "secondary")),
        ("length_unit", Citation("webserver_base (docs.rs), PraisonAI ('length_unit utf16')", "unverified")),
    ),
)

SMS = ChannelProfile(
    name="sms",
    max_text=1600,
    max_caption=0,
    max_interactive_body=0,
    max_buttons=0,
    max_button_title=0,
    max_list_rows=0,
    max_reply_id_bytes=0,
    length_unit="sms",
    markup="plain",
    sms=SmsSegments(),
    citations=(
        (
            "max_text",
            Citation(
                "sendgrid.com/docs/glossary/what-sms-character-limit (Twilio accepts up to 1600 characters, recommends <= 320)",
                "secondary",
                "a provider cap, not a standard",
            ),
        ),
        (
            "sms",
            Citation(
                "160/70 single, 153/67 concatenated (6-byte UDH): IBM sms_overview, pub.dev message_segment_calculator, sendgrid/Twilio",
                "secondary",
                "consistent across 4 sources; a 7-octet UDH would give 152/66",
            ),
        ),
        ("max_buttons", Citation("SMS has no buttons", "official", "quick replies become a numbered list")),
        (
            "length_unit",
            Citation(
                "doc.didww.com sms-encoding-reference: one non-GSM character switches the whole message to UCS-2; extension characters take 2 septets",
                "secondary",
            ),
        ),
    ),
)

WEB = ChannelProfile(
    name="web",
    max_text=4096,
    max_caption=1024,
    max_interactive_body=4096,
    max_buttons=13,
    max_button_title=40,
    max_list_rows=0,
    max_reply_id_bytes=1000,
    length_unit="codepoints",
    markup="plain",
    citations=tuple(
        (name, Citation("botkit's own web widget", "house")) for name in ("max_text", "max_caption", "max_buttons", "max_button_title", "max_reply_id_bytes")
    ),
)

_PROFILES: dict[str, ChannelProfile] = {p.name: p for p in (WHATSAPP, MESSENGER, TELEGRAM, SMS, WEB)}


def get_profile(name: str) -> ChannelProfile:
    """The profile of a channel by name; an unknown name raises `ConfigError`."""
    try:
        return _PROFILES[name]
    except (KeyError, TypeError):
        raise ConfigError(f"unknown channel {name!r}; known channels: {', '.join(CHANNELS)}") from None


@dataclass(frozen=True, kw_only=True)
class HouseRules:
    """Short-message rules on top of the platform limits, configurable per client.

    Args:
        bubble_chars: target length of one bubble, in the channel's unit. A reply that
            would need more than `max_bubbles` bubbles gets longer bubbles instead (up to
            the hard limit): fewer notifications beat more of them; lint reports both.
        bubble_slack: how far over the target a text may run to stay one bubble (0.2:
            up to 360 for 300), so a link line is not left alone in a bubble of its own.
        max_bubbles: text bubbles per reply.
        max_images: images per reply; 0 sends the image address as a link line instead.
        max_quick_replies: options a consultant should offer (checked by lint only: render
            shows every option the platform allows and degrades the rest).
        list_label: label of the button that opens a WhatsApp list message.
        sms_prefer_gsm7: replace typographic quotes, dashes and the ellipsis by their
            GSM-7 look-alikes, so one "„" does not halve an SMS's capacity.
    """

    bubble_chars: int = 300
    bubble_slack: float = 0.2
    max_bubbles: int = 3
    max_images: int = 1
    max_quick_replies: int = 3
    list_label: str = "Optionen"
    sms_prefer_gsm7: bool = True

    def __post_init__(self) -> None:
        # The smallest hard limit is 1024 (captions); below ~20 no sentence fits a bubble.
        checks = (
            ("bubble_chars", self.bubble_chars, 20),
            ("max_bubbles", self.max_bubbles, 1),
            ("max_images", self.max_images, 0),
            ("max_quick_replies", self.max_quick_replies, 0),
        )
        for name, value, lowest in checks:
            if isinstance(value, bool) or not isinstance(value, int) or value < lowest:
                raise ConfigError(f"HouseRules.{name} must be an integer >= {lowest}, got {value!r}")
        slack = self.bubble_slack
        if isinstance(slack, bool) or not isinstance(slack, (int, float)) or not 0 <= slack <= 1:
            raise ConfigError(f"HouseRules.bubble_slack must be a number from 0 to 1, got {slack!r}")
        if not isinstance(self.list_label, str) or not self.list_label.strip():
            raise ConfigError("HouseRules.list_label must be a non-empty text, e.g. 'Optionen'")

    @property
    def max_bubble_chars(self) -> int:
        """The longest a bubble should get: the target plus the slack."""
        return round(self.bubble_chars * (1 + self.bubble_slack))
