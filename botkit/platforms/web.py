"""A web chat: text, quick replies and an image as JSON for the site's own widget."""

from __future__ import annotations

from typing import Any

from botkit.channels.profiles import ChannelProfile, HouseRules
from botkit.channels.render import Options
from botkit.platforms.base import Choices, Look, WithoutWebhook
from botkit.platforms.outreach import Reach
from botkit.types import Message


class Web(WithoutWebhook):
    """Messages for a web chat widget: `{"text", "quick_replies": [{"title", "payload"}], "image"}`."""

    name = "web"
    display_name = "Web chat"
    look = Look("#f6f7f9", "#ffffff", "#1f2937", "#2563eb", "#ffffff", "#ffffff", "#2563eb")

    def build(self, profile: ChannelProfile, rules: HouseRules, bubbles: list[str], options: Options, image: str | None) -> list[Message]:
        if image and not bubbles:
            bubbles = [""]
        out = []
        for k, bubble in enumerate(bubbles):
            shown: tuple[str, ...] = ()
            payload: dict[str, Any] = {"text": bubble, "quick_replies": []}
            if k == len(bubbles) - 1 and options.mode == "buttons":
                shown = options.shown
                payload["quick_replies"] = [{"title": title, "payload": rid} for rid, title in zip(options.ids, options.shown)]
            with_image = image if k == 0 else None
            if with_image:
                payload["image"] = with_image
            out.append(Message("web", bubble, shown, with_image, payload))
        return out

    def choices(self, message: Message) -> Choices:
        return Choices(tuple((q["title"], q["payload"]) for q in message.payload.get("quick_replies", [])))

    # Business-initiated messages (campaigns) -----------------------------------------------

    def reach(self, last_user_at: float | None, now: float, template: str | None) -> Reach:
        return Reach.not_now("unreachable", "the web chat cannot reach a user who is not on the page")
