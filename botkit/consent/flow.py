"""The in-chat consent dialogue and consent-scoped marketing answers (the bot's `ConsentHook`).

Opt-in is a double opt-in inside the chat: the user asks for a topic, the bot states exactly
what will be sent (that text is stored as the wording shown), and only the user's explicit
"JA"/"YES" grants it. Withdrawal takes one keyword and applies to the very next message,
because every decision reads the ledger afresh.
"""

from __future__ import annotations

from collections.abc import Sequence

from botkit.consent.intents import Intent, classify
from botkit.consent.ledger import GRANTED, PENDING, WITHDRAWN, ConsentEvent, ConsentLedger
from botkit.platforms import PLATFORMS
from botkit.policy.intents import IntentMatcher
from botkit.policy.wording import say as system_text
from botkit.types import Client, Draft, FaqEntry, Topic


def say(key: str, lang: str, client: Client | None = None, **values: str) -> str:
    """A consent text in `lang` and the client's tone: `consent_{key}` of `botkit.policy.wording`."""
    return system_text(f"consent_{key}", lang, client or Client(), **values)


def _display_name(channel: str) -> str:
    """The channel's platform as people write it (`Platform.display_name`); an unknown name as it is."""
    platform = PLATFORMS.get(channel)
    return platform.display_name if platform is not None else channel


def title(topic: Topic, lang: str) -> str:
    """A topic's title in `lang`, else English, else any."""
    return topic.title.get(lang) or topic.title.get("en") or next(iter(topic.title.values()), topic.id)


def offer_label(topic: Topic, lang: str) -> str:
    """The quick reply that starts an opt-in for a topic (the flow recognises it as a request)."""
    return say("offer", lang, title=title(topic, lang))


class ConsentFlow:
    """The consent dialogue of a bot, backed by a `ConsentLedger` (implements `ConsentHook`).

    Args:
        pending_seconds: how long a request waits for "JA"/"YES". A chat is a dialogue: a "JA"
            hours later more likely answers something else than the request, so it is not
            taken as consent; the user can simply ask again.
        matcher: recognises withdrawal in sentences ("Ich möchte mich abmelden"); without it
            only the exact keyword and topic rules apply.
    """

    def __init__(self, ledger: ConsentLedger, *, pending_seconds: float = 3600, matcher: IntentMatcher | None = None) -> None:
        self.ledger = ledger
        self.pending_seconds = pending_seconds
        self.matcher = matcher

    def intercept(self, user_id: str, channel: str, text: str, lang: str, message_id: str | None) -> Draft | None:
        """Handle an opt-in request, a confirmation or a withdrawal; None for any other message."""
        intent = classify(text, self.ledger.topics.values(), self.matcher)
        if intent is None:
            return None
        if intent.kind in {"stop_all", "stop_topics"}:
            return self._withdraw(user_id, intent, lang, text, message_id)
        if intent.kind == "opt_in":
            return self._request(user_id, channel, intent, lang, text, message_id)
        batch = self.pending(user_id, channel)
        if not batch:
            answered = [e for e in self._caused(user_id, message_id) if e.channel == channel and e.ref is not None]
            if answered:  # handled before, but its reply was never saved (a crash): the same answer again
                topics = [self.ledger.topics[e.topic] for e in answered if e.topic in self.ledger.topics]
                key = "granted" if answered[0].state == GRANTED else "declined"
                return Draft(say(key, lang, self.ledger.client, titles=self._titles(topics, lang)))
            return None  # a "JA" with nothing to confirm is an ordinary message
        topics = [self.ledger.topics[e.topic] for e in batch]
        if intent.kind == "confirm":
            for event in batch:
                self.ledger.grant(user_id, channel, event.topic, confirms=event, message_id=message_id, evidence=text)
            return Draft(say("granted", lang, self.ledger.client, titles=self._titles(topics, lang)))
        for event in batch:
            self.ledger.withdraw(user_id, channel, event.topic, message_id=message_id, evidence=text, answers=event)
        return Draft(say("declined", lang, self.ledger.client, titles=self._titles(topics, lang)))

    def intercept_withdrawal(self, user_id: str, channel: str, text: str, lang: str, message_id: str | None) -> Draft | None:
        """Handle only a withdrawal (e.g. STOP while a person has the conversation); None otherwise."""
        intent = classify(text, self.ledger.topics.values(), self.matcher)
        if intent is None or intent.kind not in {"stop_all", "stop_topics"}:
            return None
        return self._withdraw(user_id, intent, lang, text, message_id)

    def shape(self, entry: FaqEntry, user_id: str, channel: str, lang: str) -> Draft:
        """A marketing entry's draft: teaser, links and quick replies only with granted consent.

        Without consent the user still gets the answer to their question, plus an opt-in
        quick reply unless they have withdrawn or declined this topic before. With consent the
        promotional content is recorded as a delivery, and the first one in a channel carries
        the Art. 21(4) objection notice.
        """
        topic = self.ledger.topics.get(entry.topic)
        if topic is None:  # a topic nobody can opt into: never promote it
            return Draft(entry.answer)
        if not self.ledger.is_granted(user_id, channel, topic.id):
            offer = () if self._objected(user_id, topic.id) else (offer_label(topic, lang),)
            return Draft(entry.answer, quick_replies=offer)
        notice = not self.ledger.notified(user_id, channel)
        parts = [entry.answer, entry.teaser]
        if notice:
            parts.append(say("objection_notice", lang, self.ledger.client))
        text = "\n\n".join(p for p in parts if p)
        self.ledger.record_delivery(f"chat:{entry.id}", topic.id, user_id, channel, text, objection_notice=notice)
        return Draft(text, links=entry.links, quick_replies=entry.quick_replies)

    def pending(self, user_id: str, channel: str) -> list[ConsentEvent]:
        """The requests of the user's latest unexpired opt-in message in this channel."""
        horizon = self.ledger.now() - self.pending_seconds
        waiting = [e for e in self.ledger.states(user_id) if e.channel == channel and e.state == PENDING and e.at >= horizon and e.topic in self.ledger.topics]
        latest = max((e.at for e in waiting), default=None)
        return [e for e in waiting if e.at == latest]

    def _request(self, user_id: str, channel: str, intent: Intent, lang: str, text: str, message_id: str | None) -> Draft:
        asked = [e for e in self._caused(user_id, message_id) if e.channel == channel and e.state == PENDING and e.wording]
        if asked:  # handled before, but its reply was never saved (a crash): the same request again
            return Draft(asked[0].wording or "", quick_replies=(say("yes", lang, self.ledger.client), say("no", lang, self.ledger.client)))
        topics = [self.ledger.topics[t] for t in intent.topics]
        wanted = [t for t in topics if not self.ledger.is_granted(user_id, channel, t.id)]
        if not wanted:
            return Draft(say("already", lang, self.ledger.client, titles=self._titles(topics, lang)))
        wording = self._request_text(wanted, channel, lang)
        at = self.ledger.now()  # one timestamp marks the requests one "JA" confirms
        for topic in wanted:
            self.ledger.request(user_id, channel, topic.id, wording=wording, lang=lang, message_id=message_id, evidence=text, at=at)
        return Draft(wording, quick_replies=(say("yes", lang, self.ledger.client), say("no", lang, self.ledger.client)))

    def _request_text(self, topics: Sequence[Topic], channel: str, lang: str) -> str:
        client = self.ledger.client
        head = say("request", lang, client, titles=self._titles(topics, lang), channel=_display_name(channel))
        details = [(f"{title(t, lang)}: " if len(topics) > 1 else "") + (t.description.get(lang) or t.description.get("en") or "") for t in topics]
        parts = [head, *details, say("request_how", lang, client)]
        if client.privacy_url:
            parts.append(say("privacy", lang, client, url=client.privacy_url))
        return "\n\n".join(p for p in parts if p)

    def _withdraw(self, user_id: str, intent: Intent, lang: str, text: str, message_id: str | None) -> Draft | None:
        """Withdraw in every channel of this user: an objection to marketing is not limited to one channel (Art. 21(3)).

        A withdrawal that is not `sure` is still carried out, and the reply says how the
        message was read. With nothing to withdraw, only an exact STOP keyword or phrase gets
        "nothing to withdraw"; a sentence read as a withdrawal ("Bitte alle meine Daten
        löschen") is left to be answered as a question.
        """
        topic_ids = intent.topics if intent.kind == "stop_topics" else None
        active = [e for e in self.ledger.states(user_id) if e.state in (PENDING, GRANTED)]
        done_before = [e for e in self._caused(user_id, message_id) if e.state == WITHDRAWN]  # a retry after a crash
        if topic_ids is not None:
            active = [e for e in active if e.topic in topic_ids]
            done_before = [e for e in done_before if e.topic in topic_ids]
        for event in active:
            self.ledger.withdraw(user_id, event.channel, event.topic, message_id=message_id, evidence=text)
        active += done_before
        if not active and (intent.read or not intent.sure):
            return None  # nothing to stop, and only read from a sentence: answer it as a question
        names = list(dict.fromkeys(e.topic for e in active)) or list(topic_ids or ())
        topics = [self.ledger.topics[t] for t in names if t in self.ledger.topics]
        if active:
            key = "withdrawn" if topic_ids is not None else "withdrawn_all"
            done = say(key, lang, self.ledger.client, titles=self._titles(topics, lang) or ", ".join(names))
            return Draft(done if intent.sure else f"{done}\n\n{say('unsure', lang, self.ledger.client)}")
        if topic_ids is None:
            return Draft(say("nothing_to_withdraw", lang, self.ledger.client))
        return Draft(say("not_subscribed", lang, self.ledger.client, titles=self._titles(topics, lang)))

    def _caused(self, user_id: str, message_id: str | None) -> list[ConsentEvent]:
        """The user's current consent events that this message caused: it was handled before."""
        if message_id is None:
            return []
        return [e for e in self.ledger.states(user_id) if e.message_id == message_id]

    def _objected(self, user_id: str, topic_id: str) -> bool:
        return any(e.topic == topic_id and e.state == WITHDRAWN for e in self.ledger.states(user_id))

    def _titles(self, topics: Sequence[Topic], lang: str) -> str:
        quoted = [f"„{title(t, lang)}“" if lang == "de" else f"“{title(t, lang)}”" for t in topics]
        if len(quoted) < 2:
            return "".join(quoted)
        return f"{', '.join(quoted[:-1])} {say('and', lang, self.ledger.client)} {quoted[-1]}"
