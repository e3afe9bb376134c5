"""Every text the bot says on its own (not FAQ answers), per language and tone, overridable per client.

German comes in two tones (`tone: sie` or `tone: du` in `botkit.yaml`); English has one form;
any other language falls back to English. A client overrides a text per language under
`texts:` in `botkit.yaml`; `check_override` is the load-time validation of such an override.

Placeholders `{bot}`, `{client}`, `{contact}` and `{capabilities}` are filled from the client
in every text (`{contact}` is the whole "In a hurry? ..." sentence, empty without phone,
e-mail or contact); a text's own `values` are passed by the caller of `say`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from string import Formatter

from botkit.errors import ConfigError
from botkit.types import Client

FALLBACK = "en"
TONES = ("sie", "du")
FILLED = ("bot", "client", "contact", "capabilities")  # from the client, usable in every text


@dataclass(frozen=True)
class Tone:
    """A German text in both tones."""

    sie: str
    du: str


@dataclass(frozen=True)
class Text:
    """One system text: its built-in wording and the values its caller passes.

    Args:
        required: placeholders an override must keep, because they carry what the text is for.
        disclosing: the text tells the user they talk to a bot (EU AI Act Art. 50); an
            override must still say so.
    """

    de: str | Tone
    en: str
    values: tuple[str, ...] = ()
    required: tuple[str, ...] = ()
    disclosing: bool = False

    def builtin(self, lang: str) -> str | Tone | None:
        """The built-in wording in `lang`, None if there is none."""
        return {"de": self.de, "en": self.en}.get(lang)


def _same(text: str) -> Tone:
    return Tone(text, text)


TEXTS: dict[str, Text] = {
    # Disclosure (Art. 50) and the truthful answer to "are you a human?" or role-play.
    "disclosure": Text(
        Tone(
            "Hallo! Ich bin {bot}, der digitale Assistent von {client}: ein Bot, kein Mensch. {capabilities} "
            "Wenn Sie mit einem Menschen sprechen möchten, schreiben Sie einfach „Mitarbeiter“.",
            "Hallo! Ich bin {bot}, der digitale Assistent von {client}: ein Bot, kein Mensch. {capabilities} "
            "Wenn du mit einem Menschen sprechen möchtest, schreib einfach „Mitarbeiter“.",
        ),
        'Hi! I\'m {bot}, the automated assistant of {client}: a bot, not a person. {capabilities} To talk to a person, just write "agent".',
        disclosing=True,
    ),
    "capabilities": Text(_same("Ich beantworte Fragen aus unseren FAQ."), "I answer questions from our FAQ."),
    "bot_question": Text(
        Tone(
            "Nein, ich bin kein Mensch: Ich bin {bot}, ein Bot von {client}, und antworte mit Texten aus unseren FAQ. "
            "Ich kann nicht so tun, als wäre ich ein Mensch. Schreiben Sie „Mitarbeiter“, dann übernimmt ein Mensch.",
            "Nein, ich bin kein Mensch: Ich bin {bot}, ein Bot von {client}, und antworte mit Texten aus unseren FAQ. "
            "Ich kann nicht so tun, als wäre ich ein Mensch. Schreib „Mitarbeiter“, dann übernimmt ein Mensch.",
        ),
        "No, I'm not a person: I'm {bot}, a bot of {client}, and I answer with texts from our FAQ. "
        'I can\'t pretend to be a person. Write "agent" and a person will take over.',
        disclosing=True,
    ),
    # Small talk, per kind.
    "greeting": Text(Tone("Hallo! Wie kann ich Ihnen helfen?", "Hallo! Wie kann ich dir helfen?"), "Hi! How can I help you?"),
    "thanks": Text(
        Tone("Gern geschehen! Kann ich noch etwas für Sie tun?", "Gern geschehen! Kann ich noch etwas für dich tun?"),
        "You're welcome! Is there anything else I can do for you?",
    ),
    "ack": Text(
        Tone("Alles klar. Wenn Sie noch eine Frage haben, schreiben Sie einfach.", "Alles klar. Wenn du noch eine Frage hast, schreib einfach."),
        "All right. If you have another question, just write.",
    ),
    "goodbye": Text(
        Tone("Auf Wiedersehen! Bei Fragen bin ich jederzeit hier.", "Tschüss! Bei Fragen bin ich jederzeit hier."),
        "Goodbye! I'm here whenever you have a question.",
    ),
    "empty": Text(Tone("Gern! Was möchten Sie wissen?", "Gern! Was möchtest du wissen?"), "Sure! What would you like to know?"),
    # Not sure what was meant: the suggestion band and the clarification.
    "suggest": Text(
        Tone("Ich bin nicht sicher, was Sie meinen. Meinten Sie eines davon?", "Ich bin nicht sicher, was du meinst. Meintest du eines davon?"),
        "I'm not sure what you mean. Did you mean one of these?",
    ),
    "talk_to_person_label": Text(_same("Mit einem Menschen sprechen"), "Talk to a person"),
    "nothing_fits_label": Text(_same("Nichts davon"), "None of these"),
    "clarify": Text(Tone("Meinen Sie eine dieser Fragen?", "Meinst du eine dieser Fragen?"), "Do you mean one of these questions?"),
    # A handover, per reason; {promise} is the waiting promise (botkit.hours.waiting_promise).
    "handover_user_request": Text(
        Tone("Gern, ich gebe Ihr Anliegen an unser Team weiter. {promise}", "Gern, ich gebe dein Anliegen an unser Team weiter. {promise}"),
        "Sure, I'm passing your request to our team. {promise}",
        values=("promise",),
        required=("promise",),
    ),
    "handover_low_confidence": Text(
        Tone(
            "Dazu finde ich in unseren FAQ keine sichere Antwort. Ich gebe Ihre Frage an unser Team weiter. {promise}",
            "Dazu finde ich in unseren FAQ keine sichere Antwort. Ich gebe deine Frage an unser Team weiter. {promise}",
        ),
        "I can't find a reliable answer to that in our FAQ. I'm passing your question to our team. {promise}",
        values=("promise",),
        required=("promise",),
    ),
    "handover_repeated_misses": Text(
        _same("Ich komme hier nicht weiter und gebe das Gespräch an unser Team weiter. {promise}"),
        "I'm not getting this right, so I'm passing the conversation to our team. {promise}",
        values=("promise",),
        required=("promise",),
    ),
    "handover_nothing_fits": Text(
        Tone(
            "Schade, dass nichts davon passt. Ich gebe Ihre Frage an unser Team weiter. {promise}",
            "Schade, dass nichts davon passt. Ich gebe deine Frage an unser Team weiter. {promise}",
        ),
        "Sorry that none of these fit. I'm passing your question to our team. {promise}",
        values=("promise",),
        required=("promise",),
    ),
    # The waiting promise: open, open but closing soon, closed, no business hours configured.
    "waiting_open": Text(
        _same("Jemand aus unserem Team meldet sich hier im Chat, meist innerhalb von {minutes} Minuten."),
        "Someone from our team will reply here in the chat, usually within {minutes} minutes.",
        values=("minutes",),
    ),
    "waiting_closing_soon": Text(
        _same("Unser Team meldet sich hier im Chat: heute noch bis {until}, sonst {when}. {contact}"),
        "Our team will reply here in the chat: today until {until}, otherwise {when}. {contact}",
        values=("until", "when"),
        required=("when",),
    ),
    "waiting_closed": Text(
        Tone(
            "Unser Team ist {when} wieder da und antwortet Ihnen dann hier. {contact}",
            "Unser Team ist {when} wieder da und antwortet dir dann hier. {contact}",
        ),
        "Our team is back {when} and will answer you here then. {contact}",
        values=("when",),
        required=("when", "contact"),
    ),
    "waiting_neutral": Text(
        _same("Jemand aus unserem Team meldet sich hier im Chat. {contact}"),
        "Someone from our team will reply here in the chat. {contact}",
    ),
    "waiting_reminder": Text(
        Tone(
            "Ihre Anfrage liegt schon bei unserem Team; jemand meldet sich hier im Chat.",
            "Deine Anfrage liegt schon bei unserem Team; jemand meldet sich hier im Chat.",
        ),
        "Your request is already with our team; someone will reply here in the chat.",
    ),
    "person_took_over": Text(
        Tone("Jemand aus unserem Team ist jetzt für Sie da und antwortet hier.", "Jemand aus unserem Team ist jetzt für dich da und antwortet hier."),
        "Someone from our team is with you now and will reply here.",
    ),
    "nobody_came": Text(
        Tone(
            "Leider hat sich noch niemand aus unserem Team gemeldet. Ihre Anfrage bleibt vorgemerkt; "
            "bis dahin beantworte ich gern weiter Ihre Fragen. {contact}",
            "Leider hat sich noch niemand aus unserem Team gemeldet. Deine Anfrage bleibt vorgemerkt; "
            "bis dahin beantworte ich gern weiter deine Fragen. {contact}",
        ),
        "Sorry, nobody from our team has replied yet. Your request stays with them; until then I'm happy to answer your questions. {contact}",
        required=("contact",),
    ),
    "released": Text(
        Tone(
            "Unser Team hat das Gespräch an mich zurückgegeben: Hier schreibt wieder {bot}, ein Bot von {client}. Fragen Sie gern weiter.",
            "Unser Team hat das Gespräch an mich zurückgegeben: Hier schreibt wieder {bot}, ein Bot von {client}. Frag gern weiter.",
        ),
        "Our team has handed the conversation back to me: this is {bot} again, a bot of {client}. Feel free to ask more.",
        disclosing=True,
    ),
    # The contact alternative: {reach} is the client's phone and e-mail (or `contact`).
    "contact": Text(
        Tone("Eilt es? Sie erreichen uns auch unter {reach}.", "Eilt es? Du erreichst uns auch unter {reach}."),
        "In a hurry? You can also reach us at {reach}.",
        values=("reach",),
        required=("reach",),
    ),
    "or": Text(_same("oder"), "or"),
    "list_label": Text(_same("Optionen"), "Options"),
    # The consent dialogue (botkit.consent.flow).
    "consent_request": Text(
        Tone(
            "Bitte bestätigen Sie: Sie möchten {titles} von {client} hier im Chat ({channel}) erhalten.",
            "Bitte bestätige: Du möchtest {titles} von {client} hier im Chat ({channel}) erhalten.",
        ),
        "Please confirm: you would like to receive {titles} from {client} here in this chat ({channel}).",
        values=("titles", "channel"),
        required=("titles",),
    ),
    "consent_request_how": Text(
        Tone(
            "Antworten Sie mit JA, um zu bestätigen. Abmelden können Sie sich jederzeit mit STOP.",
            "Antworte mit JA, um zu bestätigen. Abmelden kannst du dich jederzeit mit STOP.",
        ),
        "Reply YES to confirm. You can unsubscribe at any time by sending STOP.",
    ),
    "consent_privacy": Text(_same("Datenschutz: {url}"), "Privacy: {url}", values=("url",), required=("url",)),
    "consent_granted": Text(
        Tone(
            "Danke, Ihre Anmeldung für {titles} ist bestätigt. Abmelden jederzeit mit STOP.",
            "Danke, deine Anmeldung für {titles} ist bestätigt. Abmelden jederzeit mit STOP.",
        ),
        "Thank you, your subscription to {titles} is confirmed. Send STOP at any time to unsubscribe.",
        values=("titles",),
    ),
    "consent_already": Text(
        Tone("Sie erhalten {titles} hier bereits. Abmelden jederzeit mit STOP.", "Du erhältst {titles} hier bereits. Abmelden jederzeit mit STOP."),
        "You already receive {titles} here. Send STOP at any time to unsubscribe.",
        values=("titles",),
    ),
    "consent_declined": Text(
        Tone(
            "In Ordnung, Sie erhalten keine {titles}. Ihre Fragen beantworte ich weiterhin gern.",
            "In Ordnung, du erhältst keine {titles}. Deine Fragen beantworte ich weiterhin gern.",
        ),
        "All right, you will not receive {titles}. I am still happy to answer your questions.",
        values=("titles",),
    ),
    "consent_withdrawn": Text(
        Tone(
            "Erledigt: Sie erhalten ab sofort keine {titles} mehr von uns. Ihre Fragen beantworte ich weiterhin gern.",
            "Erledigt: Du erhältst ab sofort keine {titles} mehr von uns. Deine Fragen beantworte ich weiterhin gern.",
        ),
        "Done: from now on you will no longer receive {titles} from us. I am still happy to answer your questions.",
        values=("titles",),
    ),
    "consent_withdrawn_all": Text(
        Tone(
            "Erledigt: Sie erhalten ab sofort keine Werbung mehr von uns ({titles}). Ihre Fragen beantworte ich weiterhin gern.",
            "Erledigt: Du erhältst ab sofort keine Werbung mehr von uns ({titles}). Deine Fragen beantworte ich weiterhin gern.",
        ),
        "Done: from now on you will no longer receive marketing messages from us ({titles}). I am still happy to answer your questions.",
        values=("titles",),
    ),
    "consent_unsure": Text(
        Tone(
            "Ich habe Ihre Nachricht als Abmeldung verstanden. Falls Sie etwas anderes gemeint haben, fragen Sie bitte noch einmal mit anderen Worten.",
            "Ich habe deine Nachricht als Abmeldung verstanden. Falls du etwas anderes gemeint hast, frag bitte noch einmal mit anderen Worten.",
        ),
        "I took your message as a request to unsubscribe. If you meant something else, please ask again in other words.",
    ),
    "consent_nothing_to_withdraw": Text(
        Tone(
            "Sie haben bei uns keine Werbung abonniert, daher erhalten Sie keine. Ihre Fragen beantworte ich weiterhin gern.",
            "Du hast bei uns keine Werbung abonniert, daher erhältst du keine. Deine Fragen beantworte ich weiterhin gern.",
        ),
        "You have not subscribed to any marketing messages from us, so you will not receive any. I am still happy to answer your questions.",
    ),
    "consent_not_subscribed": Text(
        Tone(
            "{titles} haben Sie hier nicht abonniert, daher erhalten Sie dazu nichts.",
            "{titles} hast du hier nicht abonniert, daher erhältst du dazu nichts.",
        ),
        "You have not subscribed to {titles} here, so you will not receive any.",
        values=("titles",),
    ),
    "consent_objection_notice": Text(
        Tone(
            "Hinweis: Sie können der Verwendung Ihrer Daten für Werbung jederzeit widersprechen – schreiben Sie einfach STOP.",
            "Hinweis: Du kannst der Verwendung deiner Daten für Werbung jederzeit widersprechen – schreib einfach STOP.",
        ),
        "Note: you can object to the use of your data for marketing at any time – just send STOP.",
    ),
    "consent_stop_hint": Text(_same("Abmelden: STOP"), "Unsubscribe: STOP"),
    # Verb first: where the platform cuts titles to 20 characters, "Abonnieren: Solar-…" still says what it does.
    "consent_offer": Text(_same("Abonnieren: {title}"), "Subscribe: {title}", values=("title",), required=("title",)),
    "consent_and": Text(_same("und"), "and"),
    "consent_yes": Text(_same("JA"), "YES"),
    "consent_no": Text(_same("Nein"), "No"),
}


def say(key: str, lang: str, client: Client, **values: str) -> str:
    """The text `key` in `lang` and the client's tone, with the client's override if it has one.

    Args:
        values: exactly the text's own placeholders (`TEXTS[key].values`); `{bot}`, `{client}`,
            `{contact}` and `{capabilities}` come from the client.
    """
    text = TEXTS.get(key)
    if text is None:
        raise ConfigError(f"unknown text {key!r}; known: {', '.join(sorted(TEXTS))}")
    if set(values) != set(text.values):
        raise ConfigError(f"text {key!r} takes the values {sorted(text.values)}, got {sorted(values)}")
    template = _template(key, text, lang, client)
    filled: dict[str, str] = dict(values)
    for name in placeholders(template) - set(values):
        filled[name] = _from_client(name, lang, client)
    return _tidy(template.format_map(filled))


def check_override(key: str, wording: str) -> str | None:
    """Why an override of text `key` cannot be used (None if it can): unknown key, a placeholder
    the text does not have, a required one missing, or a malformed one."""
    text = TEXTS.get(key)
    if text is None:
        return f"is not a text of the bot (known: {', '.join(sorted(TEXTS))})"
    if not wording.strip():
        return "is empty"
    allowed = allowed_placeholders(key)
    try:
        used = placeholders(wording)
    except ValueError as exc:
        return f"has a malformed placeholder ({exc}); write literal braces as {{{{ and }}}}"
    unknown = sorted(used - set(allowed))
    if unknown:
        return f"uses unknown placeholder(s) {_braced(unknown)}; this text may use {_braced(allowed)}"
    missing = [name for name in text.required if name not in used]
    if missing:
        return f"must keep the placeholder(s) {_braced(missing)}"
    return None


def allowed_placeholders(key: str) -> tuple[str, ...]:
    """The placeholders text `key` may use: the client's (not itself) and its own values."""
    own = TEXTS[key].values
    return (*(name for name in FILLED if name != key), *own)


def placeholders(template: str) -> set[str]:
    """The names of a template's `{placeholders}`; ValueError if one is malformed."""
    names: set[str] = set()
    for _, name, spec, conversion in Formatter().parse(template):
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            raise ValueError(f"{{{name}{'!' + conversion if conversion else ''}{':' + spec if spec else ''}}} is not a plain {{name}}")
        names.add(name)
    return names


def contact_reach(client: Client, lang: str) -> str:
    """How else to reach the client: phone and e-mail ("0800 1 oder info@…"), else `contact`, else ""."""
    ways = [w for w in (client.phone, client.email) if w] or ([client.contact] if client.contact else [])
    return f" {say('or', lang, client)} ".join(ways)


def _template(key: str, text: Text, lang: str, client: Client) -> str:
    own = client.texts.get(key, {})
    for candidate in (lang, FALLBACK):
        if candidate in own:
            return own[candidate]
        builtin = text.builtin(candidate)
        if isinstance(builtin, Tone):
            return builtin.du if client.tone == "du" else builtin.sie
        if isinstance(builtin, str):
            return builtin
    return text.en


def _from_client(name: str, lang: str, client: Client) -> str:
    if name == "bot":
        return client.bot_name
    if name == "client":
        return client.name
    if name == "capabilities":
        return say("capabilities", lang, client)
    if name == "contact":
        reach = contact_reach(client, lang)
        return say("contact", lang, client, reach=reach) if reach else ""
    raise ConfigError(f"the placeholder {{{name}}} has no value")


def _tidy(text: str) -> str:
    """Drop the gaps an empty placeholder (no contact configured) leaves."""
    return re.sub(r"[ \t]{2,}", " ", text).strip()


def _braced(names: list[str] | tuple[str, ...]) -> str:
    return ", ".join(f"{{{n}}}" for n in names)
