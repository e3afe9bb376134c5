"""Disclosure (EU AI Act Art. 50): the bot says it is a bot, what it can do, how to reach a person.

It cannot be switched off: only its wording can be changed per language in `botkit.yaml`.
"""

from __future__ import annotations

import re

from botkit.types import Client

DEFAULT_WORDING = {
    "de": (
        "Hallo! Ich bin {bot}, der digitale Assistent von {client}: ein Bot, kein Mensch. "
        "{capabilities} Wenn Sie mit einem Menschen sprechen möchten, schreiben Sie einfach „Mitarbeiter“."
    ),
    "en": (
        "Hi! I'm {bot}, the automated assistant of {client}: a bot, not a person. "
        "{capabilities} To talk to a person, just write \"agent\"."
    ),
}

DEFAULT_CAPABILITIES = {
    "de": "Ich beantworte Fragen aus unseren FAQ.",
    "en": "I answer questions from our FAQ.",
}

BOT_QUESTION_ANSWER = {
    "de": (
        "Nein, ich bin kein Mensch: Ich bin {bot}, ein Bot von {client}, und antworte mit Texten "
        "aus unseren FAQ. Schreiben Sie „Mitarbeiter“, dann übernimmt ein Mensch."
    ),
    "en": (
        "No, I'm not a person: I'm {bot}, a bot of {client}, and I answer with texts from our FAQ. "
        "Write \"agent\" and a person will take over."
    ),
}

_BOT_QUESTION = re.compile(
    r"\b(bist du|sind sie|ist das|spreche ich (hier )?mit|schreibe ich (hier )?mit|rede ich mit)\b.{0,30}"
    r"\b(mensch|person|bot|roboter|maschine|ki|computer|echt)"
    r"|\b(are you|is this|am i (talking|speaking|chatting|writing) (to|with))\b.{0,30}"
    r"\b(human|person|bot|robot|machine|ai|real|computer)",
    re.IGNORECASE,
)


def disclosure_text(client: Client, lang: str) -> str:
    """The disclosure in `lang` (English where the language has no wording)."""
    template = client.disclosure.get(lang) or DEFAULT_WORDING.get(lang) or DEFAULT_WORDING["en"]
    capabilities = client.capabilities.get(lang) or DEFAULT_CAPABILITIES.get(lang) or DEFAULT_CAPABILITIES["en"]
    return template.format(bot=client.bot_name, client=client.name, capabilities=capabilities)


def bot_question_answer(client: Client, lang: str) -> str:
    """A truthful answer to "are you a human?"."""
    template = BOT_QUESTION_ANSWER.get(lang) or BOT_QUESTION_ANSWER["en"]
    return template.format(bot=client.bot_name, client=client.name)


def asks_if_bot(text: str) -> bool:
    """Does the user ask whether they are talking to a bot or a person?"""
    return bool(_BOT_QUESTION.search(text))


def says_it_is_a_bot(text: str) -> bool:
    """Does a message tell the user they are talking to a bot? (used by evaluation)"""
    return bool(re.search(r"\b(bot|chatbot|digitale[rn]? assistent\w*|automated assistant)\b", text, re.IGNORECASE))
