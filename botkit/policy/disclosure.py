"""Disclosure (EU AI Act Art. 50): the bot says it is a bot, what it can do, how to reach a person.

It cannot be switched off: only its wording can be changed per language in `botkit.yaml`
(`texts: {disclosure: ...}`), and such a wording must still say it is a bot.
"""

from __future__ import annotations

import re

from botkit.policy.wording import say
from botkit.types import Client


def disclosure_text(client: Client, lang: str) -> str:
    """The disclosure in `lang` and the client's tone (English where the language has no wording)."""
    return say("disclosure", lang, client)


def bot_question_answer(client: Client, lang: str) -> str:
    """A truthful answer to "are you a human?" and to role-play requests."""
    return say("bot_question", lang, client)


def says_it_is_a_bot(text: str) -> bool:
    """Does a message tell the user they are talking to a bot? (used by evaluation)"""
    return bool(re.search(r"\b(bot|chatbot|digitale[rn]? assistent\w*|automated assistant)\b", text, re.IGNORECASE))
