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
    "thanks": {"de": "Gern geschehen! Kann ich sonst noch helfen?", "en": "You're welcome! Anything else I can help with?"},
    "ack": {"de": "Alles klar. Fragen Sie gern, wenn noch etwas offen ist.", "en": "All right. Just ask if anything else comes up."},
    "goodbye": {"de": "Auf Wiedersehen und einen schönen Tag!", "en": "Goodbye and have a nice day!"},
    "empty": {"de": "Was möchten Sie wissen? Schreiben Sie Ihre Frage einfach hier.", "en": "What would you like to know? Just type your question here."},
    "nothing_fits_label": {"de": "Nichts davon", "en": "None of these"},
    "talk_to_person_label": {"de": "Mit einem Menschen sprechen", "en": "Talk to a person"},
    "suggest": {"de": "Ich bin nicht sicher, was Sie meinen. Meinten Sie eines davon?", "en": "I'm not sure what you mean. Did you mean one of these?"},
    "handover_nothing_fits": {
        "de": "Danke, dann gebe ich Ihre Frage an einen Mitarbeiter weiter.",
        "en": "Thanks, then I'm passing your question to a person.",
    },
    "waiting_promise": {
        "de": "Ein Mitarbeiter meldet sich hier im Chat. Bis dahin beantworte ich gern weitere Fragen.",
        "en": "A person will reply here in the chat. Until then I'm happy to answer other questions.",
    },
    "waiting_reminder": {
        "de": "Ihre Anfrage liegt bei unserem Team; ein Mitarbeiter meldet sich hier im Chat.",
        "en": "Your request is with our team; a person will reply here in the chat.",
    },
    "nobody_came": {
        "de": "Leider konnte sich bisher niemand aus unserem Team melden. Ihre Anfrage bleibt bei uns und wird bearbeitet; bis dahin beantworte ich gern Ihre Fragen.",
        "en": "I'm sorry, nobody from our team could reply yet. Your request stays with us; until then I'm happy to answer your questions.",
    },
}


def say(key: str, lang: str, client: Client | None = None) -> str:
    """The text for `key` in `lang`, with the client's contact where the text has one."""
    texts = _TEXTS[key]
    text = texts.get(lang) or texts["en"]
    if (key.startswith("handover_") or key == "nobody_came") and key != "handover_contact" and client and client.contact:
        text += say("handover_contact", lang).format(contact=client.contact)
    return text
