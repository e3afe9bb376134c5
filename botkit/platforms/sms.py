"""SMS: plain text in GSM-7 or UCS-2 segments; botkit renders, an SMS gateway sends."""

from __future__ import annotations

from botkit.channels.profiles import ChannelProfile, HouseRules
from botkit.channels.render import Options
from botkit.channels.sms import sms_info
from botkit.platforms.base import Look, WithoutWebhook
from botkit.platforms.outreach import Reach
from botkit.types import Message


class Sms(WithoutWebhook):
    """SMS messages with their encoding and segment count; quick replies arrive as numbered text."""

    name = "sms"
    display_name = "SMS"
    look = Look("#ffffff", "#e9e9eb", "#000000", "#34c759", "#ffffff", "#ffffff", "#000000")

    def build(self, profile: ChannelProfile, rules: HouseRules, bubbles: list[str], options: Options, image: str | None) -> list[Message]:
        out = []
        for bubble in bubbles:
            info = sms_info(bubble)
            payload = {"body": bubble, "encoding": info.encoding, "segments": info.segments}
            out.append(Message("sms", bubble, (), None, payload))
        return out

    # Business-initiated messages (campaigns) -----------------------------------------------

    def reach(self, last_user_at: float | None, now: float, template: str | None) -> Reach:
        return Reach.text()  # SMS needs only the consent; an SMS gateway sends
