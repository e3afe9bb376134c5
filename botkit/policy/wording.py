"""What the bot says around answers, per language (English where a language has none)."""

from __future__ import annotations

from botkit.types import Client

_TEXTS: dict[str, dict[str, str]] = {
    "handover_low_confidence": {
        "de": "Dazu finde ich in unseren FAQ keine sichere Antwort. Ich gebe Ihre Frage an einen Mitarbeiter weiter, der sich hier im Chat meldet.",
        "en": "I can't find a reliable answer to that in our FAQ. I'm passing your question to a person, who will reply here in the chat.",
    },
    "handover_user_request": {
        "de": "Gern, ich verbinde Sie mit einem Mitarbeiter. Er meldet sich hier im Chat.",
        "en": "Sure, I'm connecting you with a person. They will reply here in the chat.",
    },
    "handover_repeated_misses": {
        "de": "Ich komme hier nicht weiter. Ich gebe das Gespräch an einen Mitarbeiter weiter, der sich hier im Chat meldet.",
        "en": "I'm not getting this right. I'm passing the conversation to a person, who will reply here in the chat.",
    },
    "handover_contact": {
        "de": " Eilt es? Sie erreichen uns auch unter {contact}.",
        "en": " In a hurry? You can also reach us at {contact}.",
    },
    "clarify": {
        "de": "Meinen Sie eine dieser Fragen?",
        "en": "Do you mean one of these questions?",
    },
    "greeting": {
        "de": "Hallo! Wie kann ich Ihnen helfen?",
        "en": "Hi! How can I help you?",
    },
}


def say(key: str, lang: str, client: Client | None = None) -> str:
    """The text for `key` in `lang`, with the client's contact where the text has one."""
    texts = _TEXTS[key]
    text = texts.get(lang) or texts["en"]
    if key.startswith("handover_") and key != "handover_contact" and client and client.contact:
        text += say("handover_contact", lang).format(contact=client.contact)
    return text
