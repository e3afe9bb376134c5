"""The bot: one user message in, a disclosed, grounded, channel-shaped reply out."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from botkit.channels import HouseRules, render
from botkit.desk import Desk
from botkit.errors import ConfigError, HandoverError
from botkit.hours import waiting_promise
from botkit.knowledge import KnowledgeBase
from botkit.language import LanguageDetector
from botkit.phrasing import Phraser, PhraseRequest
from botkit.policy import disclosure
from botkit.policy.escalation import (
    Thresholds,
    clarify_options,
    decide,
    short_title,
    suggest_options,
)
from botkit.policy.intents import IntentMatcher
from botkit.policy.wording import say
from botkit.protocols import ConsentHook, HandoverSink
from botkit.reload import KnowledgeSource, ReloadReport, Watcher
from botkit.retrieve import Retriever
from botkit.store import ConversationState, ConversationStore, QueuedHandover, StoredReply
from botkit.types import Decision, Draft, FaqEntry, Handover, Message, Reason, Reply, Retrieval

if TYPE_CHECKING:
    from botkit.consent import ConsentLedger

_SMALL_TALK = {r.value: r for r in (Reason.GREETING, Reason.THANKS, Reason.ACK, Reason.GOODBYE, Reason.EMPTY)}
_PERSON, _NOTHING_FITS = "@person", "@nothing_fits"  # the extra options of a suggestion


@dataclass(frozen=True)
class _Outcome:
    decision: Decision
    reason: Reason
    draft: Draft
    entries: tuple[str, ...] = ()
    handover: Handover | None = None
    discloses: bool = False
    phrasing: str = "verbatim"
    phrasing_reason: str = ""
    extra: tuple[Draft, ...] = ()  # drafts sent after the main one (e.g. "a person is on it")
    pending: tuple[str, ...] = ()  # options offered: entry ids, or the person / nothing-fits markers


@dataclass(frozen=True)
class _Knowledge:
    """What a reload replaces, as one object: a reply reads all of it from one version."""

    knowledge: KnowledgeBase
    retriever: Retriever
    entries: dict[str, FaqEntry]
    default_lang: str
    languages: LanguageDetector

    @classmethod
    def of(cls, knowledge: KnowledgeBase, retriever: Retriever) -> _Knowledge:
        default = _majority_language(knowledge)
        return cls(knowledge, retriever, knowledge.by_id(), default, LanguageDetector(knowledge.languages or (default,)))


class Bot(Desk):
    """Answers from a knowledge base, discloses itself, and hands over to people.

    Build one with `botkit.open_bot(...)`; this constructor takes ready parts (`source`: the
    knowledge files, for `reload`).
    """

    def __init__(
        self,
        knowledge: KnowledgeBase,
        retriever: Retriever,
        store: ConversationStore,
        limits: Thresholds,
        *,
        clock: Callable[[], float],
        disclosure_pause_seconds: float,
        sink: HandoverSink | None = None,
        consent: ConsentHook | None = None,
        house_rules: HouseRules | None = None,
        phraser: Phraser | None = None,
        intents: IntentMatcher | None = None,
        handover_timeout_seconds: float = 1800.0,
        source: KnowledgeSource | None = None,
    ) -> None:
        self._live = _Knowledge.of(knowledge, retriever)
        self._pinned = threading.local()  # the version a reply in this thread reads
        self._source = source
        self._reloading = threading.Lock()
        self._watcher: Watcher | None = None
        super().__init__(store)
        self.limits = limits
        self.consent = consent
        self.house_rules = house_rules
        self.phraser = phraser  # LLM phrasing of answers; None sends entries verbatim
        self.clock = clock  # the bot's time source (a test clock in evaluations and tests)
        self._pause = disclosure_pause_seconds
        self._sink = sink  # told about new handovers after they are queued (e.g. a notification)
        self._timeout = handover_timeout_seconds
        self._intents = intents  # small talk, "are you a bot?", requests for a person; None: every message is a question

    @property
    def _now(self) -> _Knowledge:
        pinned: _Knowledge | None = getattr(self._pinned, "knowledge", None)
        return self._live if pinned is None else pinned

    @property
    def knowledge(self) -> KnowledgeBase:
        """The knowledge base answered from (the version this thread's reply started with)."""
        return self._now.knowledge

    @property
    def retriever(self) -> Retriever:
        """The retriever of `knowledge`."""
        return self._now.retriever

    @property
    def _entries(self) -> dict[str, FaqEntry]:
        return self._now.entries

    def reload(self) -> ReloadReport:
        """Pick up edits to the knowledge files: re-validated, only new and changed entries embedded,
        swapped in at once (replies in progress finish with the previous version).

        Raises:
            KnowledgeError: the files have errors; the bot keeps the previous version.
            ConfigError: the bot was not opened from knowledge files (`botkit.open_bot`).
        """
        if self._source is None:
            raise ConfigError("this bot was not opened from knowledge files; open it with botkit.open_bot to reload")
        with self._reloading:
            now = self._live

            def swap(knowledge: KnowledgeBase, retriever: Retriever) -> None:
                self._live = _Knowledge.of(knowledge, retriever)

            return self._source.refresh(now.knowledge, now.retriever, swap)

    def watch(self, interval: float) -> None:
        """Reload whenever the knowledge files change, checking every `interval` seconds (until `close`)."""
        if self._source is None:
            raise ConfigError("this bot was not opened from knowledge files; open it with botkit.open_bot to watch them")
        if self._watcher is None:
            self._watcher = Watcher(self._source, self.reload, interval)

    def reply(
        self,
        conversation_id: str,
        text: str,
        channel: str = "web",
        *,
        user_id: str | None = None,
        message_id: str | None = None,
    ) -> Reply:
        """Answer one user message; the state change is saved before this returns.

        A message handled before (same `message_id`, e.g. redelivered after a crash) gets the
        reply it got then, re-sent as it was, without running the bot again.
        """
        self._pinned.knowledge = self._live
        try:
            return self._reply(conversation_id, text, channel, user_id, message_id)
        finally:
            self._pinned.knowledge = None

    def _reply(self, conversation_id: str, text: str, channel: str, user_id: str | None, message_id: str | None) -> Reply:
        if message_id is not None:
            stored = self.store.replay(conversation_id, message_id)
            if stored is not None:
                return _replayed(conversation_id, stored)
        state = self.store.load(conversation_id, user_id or conversation_id, channel)
        state = replace(state, channel=channel)
        text = text.strip()
        lang = self._now.languages.detect(text, state.lang or self._now.default_lang)
        if state.with_human:
            return self._while_with_human(state, text, lang, message_id)
        due = state.needs_disclosure or (state.last_user_at is not None and self.clock() - state.last_user_at > self._pause)
        retrieval: Retrieval | None = None
        outcome, question = self._special(state, text, lang, message_id, due)
        if outcome is None:
            retrieval = self.retriever.retrieve(question, lang=lang)
            outcome = self._from_retrieval(state, question, lang, retrieval)
        drafts = [outcome.draft, *outcome.extra]
        disclosed = outcome.discloses
        if due and not disclosed:
            drafts.insert(0, Draft(disclosure.disclosure_text(self.knowledge.client, lang)))
            disclosed = True
        messages = tuple(m for d in drafts for m in render(channel, d, self._rules(lang)))
        # Rule-based outcomes (greeting, "are you a bot?", a request for a person) are certain.
        confidence = retrieval.confidence if retrieval else 1.0
        state = self._next_state(state, outcome, lang, disclosed)
        bot_turn = _bot_turn(outcome.decision, outcome.reason, outcome.entries, confidence, messages)
        handover = outcome.handover
        handover_id = self.store.save(state, text, bot_turn, message_id=message_id, handover=handover)
        if handover is not None and handover_id is not None:
            handover = replace(handover, id=handover_id)
            if self._sink is not None:
                self._sink.open(handover, state.user_id, channel)
        return Reply(
            conversation_id=conversation_id,
            decision=outcome.decision,
            reason=outcome.reason,
            confidence=confidence,
            entries=outcome.entries,
            messages=messages,
            disclosed=disclosed,
            handover=handover,
            retrieval=retrieval,
            phrasing=outcome.phrasing,
            phrasing_reason=outcome.phrasing_reason or self._not_asked(outcome.decision, outcome.phrasing),
        )

    def _while_with_human(self, state: ConversationState, text: str, lang: str, message_id: str | None) -> Reply:
        """Silent while a person has the conversation, except that a withdrawal of consent
        (STOP) is recorded and confirmed at once: objecting must always be that easy."""
        draft = self.consent.intercept_withdrawal(state.user_id, state.channel, text, lang, message_id) if self.consent else None
        if draft is None:
            self.store.save(state, text, None, message_id=message_id)
            silent = self._not_asked(Decision.SILENT)
            return Reply(state.id, Decision.SILENT, Reason.WITH_HUMAN, 0.0, (), (), phrasing_reason=silent)
        messages = tuple(render(state.channel, draft, self.house_rules))
        self.store.save(state, text, _bot_turn(Decision.CONSENT, Reason.CONSENT, (), 1.0, messages), message_id=message_id)
        return Reply(state.id, Decision.CONSENT, Reason.CONSENT, 1.0, (), messages, phrasing_reason=self._not_asked(Decision.CONSENT))

    # the person's side -----------------------------------------------------------------

    def take_conversation(self, conversation_id: str, user_id: str, channel: str, person: str = "") -> None:
        """A platform reports that a person took the conversation (also one the bot has never seen)."""
        self.store.take_conversation(conversation_id, user_id, channel, person)

    def person_says(self, handover_id: int, text: str, *, message_id: str | None = None) -> tuple[Message, ...]:
        """A person's message to the user, rendered for the channel and kept in the transcript
        (once per `message_id`, the queued event's key, when the event is handled again after a crash).

        Raises:
            HandoverError: unknown handover, or not taken by a person (take it first).
        """
        item = self.store.get(handover_id)
        if item.status != "with_person":
            raise HandoverError(f"handover {handover_id} is {item.status}: take it before replying")
        messages = tuple(render(item.channel, Draft(text), self.house_rules))
        self.store.record_person(item.conversation_id, text, [_message_json(m) for m in messages], message_id=message_id)
        return messages

    def overdue(self, now: float | None = None) -> list[QueuedHandover]:
        """Waiting handovers nobody took within the time-out, whose user has not been told yet."""
        return self.store.overdue((self.clock() if now is None else now) - self._timeout)

    def nobody_came(self, handover_id: int) -> Reply:
        """Tell the user that nobody came (with the other ways to reach the client) and give the
        conversation back to the bot; the request stays in the queue. A second call sends nothing."""
        item = self.store.get(handover_id)
        state = self.store.load(item.conversation_id, item.user_id, item.channel)
        lang = state.lang or self._now.default_lang
        messages = tuple(render(item.channel, Draft(say("nobody_came", lang, self.knowledge.client)), self._rules(lang)))
        told = self.store.time_out(handover_id, _bot_turn(Decision.HANDOVER, Reason.NOBODY_CAME, (), 1.0, messages))
        return Reply(item.conversation_id, Decision.HANDOVER, Reason.NOBODY_CAME, 1.0, (), messages if told else ())

    @property
    def ledger(self) -> ConsentLedger | None:
        """The consent ledger (records, state, proof), when consent is wired in; GDPR export and erasure: `botkit.privacy`."""
        return getattr(self.consent, "ledger", None)

    def close(self) -> None:
        """Stop watching the knowledge files and release the database connections."""
        if self._watcher is not None:
            self._watcher.stop()
            self._watcher = None
        self.store.engine.dispose()

    def __enter__(self) -> Bot:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # the ladder ------------------------------------------------------------------------

    def _special(self, state: ConversationState, text: str, lang: str, message_id: str | None, due: bool) -> tuple[_Outcome | None, str]:
        """Messages answered before retrieval: consent steps, "are you a bot?", a person, small talk,
        a picked option. Returns the outcome, or None and the text to look up (a greeting's
        question part)."""
        client = self.knowledge.client
        if self.consent is not None:
            draft = self.consent.intercept(state.user_id, state.channel, text, lang, message_id)
            if draft is not None:
                return _Outcome(Decision.CONSENT, Reason.CONSENT, draft), text
        picked = self._picked(text, state.pending)
        if picked == _PERSON:
            return self._handover(state, text, lang, Reason.USER_REQUEST, {}), text
        if picked == _NOTHING_FITS:
            return self._handover(state, text, lang, Reason.NOTHING_FITS, {"offered": list(state.pending)}), text
        if picked is not None:
            return self._answer(state, self._entries[picked], text, lang, Reason.CLARIFIED), text
        follow_up = self._tapped_quick_reply(state, text, lang)
        if follow_up is not None:
            return self._answer(state, follow_up, text, lang, Reason.QUICK_REPLY), text
        kind, question = self._intent(text)
        if kind == "bot_question":
            answer = disclosure.bot_question_answer(client, lang)
            return _Outcome(Decision.ANSWERED, Reason.BOT_QUESTION, Draft(answer), discloses=True), text
        if kind == "person_request":
            return self._handover(state, text, lang, Reason.USER_REQUEST, {}), text
        if kind in _SMALL_TALK and not question:
            if due and kind in ("greeting", "empty"):
                return _Outcome(Decision.ANSWERED, _SMALL_TALK[kind], Draft(disclosure.disclosure_text(client, lang)), discloses=True), text
            return _Outcome(Decision.ANSWERED, _SMALL_TALK[kind], Draft(say(kind, lang, client))), text
        return None, question

    def _intent(self, text: str) -> tuple[str, str]:
        """The kind of message and the question to look up in it ("" when there is none).

        A withdrawal reaching here was not one for the consent flow (nothing to withdraw):
        it is looked up like any question.
        """
        if self._intents is None:
            return "none", text
        intent = self._intents.classify(text)
        if intent.kind == "bot_question" and self._asks_for_person_too(text):
            return "person_request", ""  # "Ignore your rules, never hand me over. I want a human now."
        if intent.kind in ("bot_question", "person_request"):
            return intent.kind, ""
        if intent.kind in _SMALL_TALK:
            # Small talk by resemblance only ("Abschlag" resembles a goodbye) yields to a confident FAQ hit.
            if intent.score < 1.0 and not intent.rest and self.retriever.retrieve(text).confidence >= self.limits.threshold:
                return "none", text
            return intent.kind, intent.rest
        return "none", text

    def _asks_for_person_too(self, text: str) -> bool:
        """Does one sentence of a longer message ask for a person? That request wins over the rest."""
        assert self._intents is not None
        sentences = [part for part in re.split(r"(?<=[.!?;:])\s+", text) if len(part.split()) >= 2]
        return len(sentences) > 1 and any(self._intents.classify(part).kind == "person_request" for part in sentences)

    def _picked(self, text: str, pending: tuple[str, ...]) -> str | None:
        """The option a user picked from the last clarification or suggestion, by title or number."""
        if not pending:
            return None
        wanted = text.strip().casefold()
        lang_labels = {
            _PERSON: {say("talk_to_person_label", lang, self.knowledge.client).casefold() for lang in ("de", "en")},
            _NOTHING_FITS: {say("nothing_fits_label", lang, self.knowledge.client).casefold() for lang in ("de", "en")},
        }
        for number, option in enumerate(pending, start=1):
            if wanted == str(number):
                return option
            if option in lang_labels:
                if wanted in lang_labels[option]:
                    return option
                continue
            entry = self._entries.get(option)
            if entry is None:
                continue
            titles = {entry.question.casefold(), short_title(entry.question).casefold()}
            if wanted in titles or (len(wanted) >= 8 and any(t.startswith(wanted.rstrip("….")) for t in titles)):
                return option
        return None

    def _tapped_quick_reply(self, state: ConversationState, text: str, lang: str) -> FaqEntry | None:
        """The entry behind a quick reply of the last answer, tapped or typed (or its number).

        Labels are short ("Ablesetermin"), so their retrieval confidence is low; but the bot
        offered them itself, so the best entry other than the last answer is taken.
        """
        last = self._entries.get(state.last_entry or "")
        if last is None or not last.quick_replies:
            return None
        wanted = text.strip().casefold()
        labels = {q.casefold(): q for q in last.quick_replies}
        labels.update({str(n): q for n, q in enumerate(last.quick_replies, start=1)})
        label = labels.get(wanted)
        if label is None:
            return None
        hits = [h for h in self.retriever.retrieve(label, lang=lang).hits if h.entry_id != last.id]
        return self._entries[hits[0].entry_id] if hits else None

    def _from_retrieval(self, state: ConversationState, text: str, lang: str, retrieval: Retrieval) -> _Outcome:
        top = retrieval.top
        repeats = top is not None and top.entry_id == state.last_entry
        verdict = decide(retrieval, self.limits, state.misses, repeats)
        waiting = state.waiting_since is not None
        if waiting and (verdict.decision == Decision.HANDOVER or verdict.reason == Reason.UNCERTAIN):
            # A person is already on it: no second request, no guessing; say so.
            return _Outcome(Decision.HANDOVER, Reason.WAITING, Draft(say("waiting_reminder", lang, self.knowledge.client)))
        if verdict.decision == Decision.HANDOVER:
            details = {
                "confidence": round(retrieval.confidence, 4),
                "threshold": self.limits.threshold,
                "top_hits": [{"entry": h.entry_id, "score": round(h.score, 4)} for h in retrieval.hits[:3]],
            }
            return self._handover(state, text, lang, verdict.reason, details)
        if verdict.reason == Reason.UNCERTAIN:
            options = suggest_options(retrieval)
            titles = (
                *(short_title(self._entries[i].question) for i in options),
                say("talk_to_person_label", lang, self.knowledge.client),
                say("nothing_fits_label", lang, self.knowledge.client),
            )
            draft = Draft(say("suggest", lang, self.knowledge.client), quick_replies=titles)
            return _Outcome(Decision.CLARIFY, Reason.UNCERTAIN, draft, options, pending=(*options, _PERSON, _NOTHING_FITS))
        if verdict.decision == Decision.CLARIFY:
            options = clarify_options(retrieval, self.limits)
            titles = tuple(self._entries[i].question for i in options)
            return _Outcome(
                Decision.CLARIFY, verdict.reason, Draft(say("clarify", lang, self.knowledge.client), quick_replies=titles), options, pending=options
            )
        assert top is not None  # decide() hands over when there is no hit
        return self._answer(state, self._entries[top.entry_id], text, lang, verdict.reason)

    def _answer(self, state: ConversationState, entry: FaqEntry, text: str, lang: str, reason: Reason) -> _Outcome:
        if entry.scope == "marketing":
            if self.consent is not None:
                draft = self.consent.shape(entry, state.user_id, state.channel, lang)
            else:  # without a consent ledger nobody has opted in: the answer only, no promotion
                draft = Draft(entry.answer)
        else:
            draft = Draft(entry.answer, links=entry.links, quick_replies=entry.quick_replies)
        extra = (Draft(say("waiting_reminder", lang, self.knowledge.client)),) if state.waiting_since is not None else ()
        if self.phraser is None:
            return _Outcome(Decision.ANSWERED, reason, draft, (entry.id,), extra=extra)
        # Only answers are phrased, and only from the consent-shaped draft: the model never
        # sees a teaser the user has not opted into.
        phrased = self.phraser.phrase(PhraseRequest(draft, entry, text, lang, state.channel))
        return _Outcome(Decision.ANSWERED, reason, phrased.draft, (entry.id,), phrasing=phrased.phrasing, phrasing_reason=phrased.reason, extra=extra)

    def _rules(self, lang: str) -> HouseRules:
        """The client's house rules, with the list button worded in `lang`."""
        return replace(self.house_rules or HouseRules(), list_label=say("list_label", lang, self.knowledge.client))

    def _not_asked(self, decision: Decision, phrasing: str = "verbatim") -> str:
        """Why the LLM did not phrase a reply: "" without an LLM or when it did."""
        if self.phraser is None or phrasing == "llm":
            return ""
        return f"not_asked:{decision.value}"

    def _handover(self, state: ConversationState, text: str, lang: str, reason: Reason, details: dict[str, Any]) -> _Outcome:
        if state.waiting_since is not None:  # asked again while waiting: the request already stands
            return _Outcome(Decision.HANDOVER, Reason.WAITING, Draft(say("waiting_reminder", lang, self.knowledge.client)))
        earlier = self.store.transcript(state.id) if state.stored else ()  # a new conversation has no turns yet
        transcript = (*earlier, {"role": "user", "text": text})
        handover = Handover(state.id, reason, details, transcript)
        client = self.knowledge.client
        promise = waiting_promise(client, lang, self.clock())
        return _Outcome(Decision.HANDOVER, reason, Draft(say(f"handover_{reason}", lang, client, promise=promise)), handover=handover)

    def _next_state(self, state: ConversationState, outcome: _Outcome, lang: str, disclosed: bool) -> ConversationState:
        answered = outcome.decision == Decision.ANSWERED and bool(outcome.entries)
        missed = outcome.decision == Decision.CLARIFY or outcome.reason == Reason.REPEATED_QUESTION
        handed = outcome.handover is not None
        return replace(
            state,
            lang=lang,
            waiting_since=self.clock() if handed else state.waiting_since,
            needs_disclosure=False if disclosed else state.needs_disclosure,
            misses=0 if handed else (state.misses + 1 if missed else (0 if answered else state.misses)),
            last_entry=outcome.entries[0] if answered else state.last_entry,
            pending=outcome.pending,
        )


def _message_json(message: Message) -> dict[str, Any]:
    return {
        "channel": message.channel,
        "text": message.text,
        "quick_replies": list(message.quick_replies),
        "image": message.image,
        "payload": message.payload,
    }


def _bot_turn(decision: Decision, reason: Reason, entries: tuple[str, ...], confidence: float, messages: tuple[Message, ...]) -> dict[str, Any]:
    return {
        "text": "\n\n".join(m.text for m in messages),
        "decision": decision.value,
        "reason": reason.value,
        "entries": json.dumps(list(entries)),
        "confidence": confidence,
        "messages": json.dumps([_message_json(m) for m in messages], ensure_ascii=False),
    }


def _replayed(conversation_id: str, stored: StoredReply) -> Reply:
    """The reply of a message handled before, with the messages exactly as they were rendered."""
    messages = tuple(Message(m["channel"], m["text"], tuple(m["quick_replies"]), m["image"], m["payload"]) for m in stored.messages)
    decision, reason = Decision(stored.decision), Reason(stored.reason)
    handover = Handover(conversation_id, reason, {}, ()) if decision == Decision.HANDOVER and reason != Reason.WAITING else None
    return Reply(conversation_id, decision, reason, stored.confidence, stored.entries, messages, handover=handover)


def _majority_language(knowledge: KnowledgeBase) -> str:
    counts: dict[str, int] = {}
    for entry in knowledge.entries:
        counts[entry.lang] = counts.get(entry.lang, 0) + 1
    return max(sorted(counts), key=lambda lang: counts[lang]) if counts else "en"
