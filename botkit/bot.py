"""The bot: one user message in, a disclosed, grounded, channel-shaped reply out."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace

from botkit.channels import HouseRules, render
from botkit.knowledge import KnowledgeBase
from botkit.language import LanguageDetector
from botkit.phrasing import Phraser, PhraseRequest
from botkit.policy import disclosure
from botkit.policy.escalation import Thresholds, asks_for_human, clarify_options, decide, is_greeting
from botkit.policy.wording import say
from botkit.protocols import ConsentHook, HandoverSink
from botkit.retrieve import Retriever
from botkit.store import ConversationState, ConversationStore
from botkit.types import Decision, Draft, FaqEntry, Handover, Reply, Retrieval

@dataclass(frozen=True)
class _Outcome:
    decision: Decision
    reason: str
    draft: Draft
    entries: tuple[str, ...] = ()
    handover: Handover | None = None
    discloses: bool = False
    phrasing: str = "verbatim"
    phrasing_reason: str = ""


class Bot:
    """Answers from a knowledge base, discloses itself, and hands over to people.

    Build one with `botkit.open_bot(...)`; this constructor takes ready parts.
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
    ) -> None:
        self.knowledge = knowledge
        self.retriever = retriever
        self.store = store
        self.limits = limits
        self.consent = consent
        self.house_rules = house_rules
        self.phraser = phraser  # LLM phrasing of answers; None sends entries verbatim
        self._entries = knowledge.by_id()
        self._clock = clock
        self._pause = disclosure_pause_seconds
        self._sink: HandoverSink = sink or store
        self._default_lang = _majority_language(knowledge)
        self._languages = LanguageDetector(knowledge.languages or (self._default_lang,))

    def reply(
        self,
        conversation_id: str,
        text: str,
        channel: str = "web",
        *,
        user_id: str | None = None,
        message_id: str | None = None,
    ) -> Reply:
        """Answer one user message; the state change is saved before this returns."""
        state = self.store.load(conversation_id, user_id or conversation_id, channel)
        state = replace(state, channel=channel)
        text = text.strip()
        lang = self._languages.detect(text, state.lang or self._default_lang)
        if state.with_human:
            return self._while_with_human(state, text, lang, message_id)
        due = state.needs_disclosure or (
            state.last_user_at is not None and self._clock() - state.last_user_at > self._pause
        )
        retrieval: Retrieval | None = None
        outcome = self._special(state, text, lang, message_id, due)
        if outcome is None:
            retrieval = self.retriever.retrieve(text, lang=lang)
            outcome = self._from_retrieval(state, text, lang, retrieval)
        drafts = [outcome.draft]
        disclosed = outcome.discloses
        if due and not disclosed:
            drafts.insert(0, Draft(disclosure.disclosure_text(self.knowledge.client, lang)))
            disclosed = True
        messages = tuple(m for d in drafts for m in render(channel, d, self.house_rules))
        # Rule-based outcomes (greeting, "are you a bot?", a request for a person) are certain.
        confidence = retrieval.confidence if retrieval else 1.0
        state = self._next_state(state, outcome, lang, disclosed)
        self.store.save(
            state,
            text,
            {
                "text": "\n\n".join(m.text for m in messages),
                "decision": outcome.decision.value,
                "entries": json.dumps(list(outcome.entries)),
                "confidence": confidence,
            },
        )
        if outcome.handover is not None:
            self._sink.open(outcome.handover, state.user_id, channel)
        return Reply(
            conversation_id=conversation_id,
            decision=outcome.decision,
            reason=outcome.reason,
            confidence=confidence,
            entries=outcome.entries,
            messages=messages,
            disclosed=disclosed,
            handover=outcome.handover,
            retrieval=retrieval,
            phrasing=outcome.phrasing,
            phrasing_reason=outcome.phrasing_reason or self._not_asked(outcome.decision, outcome.phrasing),
        )

    def _while_with_human(self, state: ConversationState, text: str, lang: str, message_id: str | None) -> Reply:
        """Silent while a person has the conversation, except that a withdrawal of consent
        (STOP) is recorded and confirmed at once: objecting must always be that easy."""
        draft = self.consent.intercept_withdrawal(state.user_id, state.channel, text, lang, message_id) if self.consent else None
        if draft is None:
            self.store.save(state, text, None)
            silent = self._not_asked(Decision.SILENT)
            return Reply(state.id, Decision.SILENT, "with_human", 0.0, (), (), phrasing_reason=silent)
        messages = tuple(render(state.channel, draft, self.house_rules))
        bot_turn = {"text": "\n\n".join(m.text for m in messages), "decision": Decision.CONSENT.value, "entries": "[]", "confidence": 1.0}
        self.store.save(state, text, bot_turn)
        return Reply(state.id, Decision.CONSENT, "consent", 1.0, (), messages, phrasing_reason=self._not_asked(Decision.CONSENT))

    def release(self, conversation_id: str) -> None:
        """A person hands the conversation back; the bot discloses itself again."""
        self.store.release(conversation_id)

    def _special(
        self, state: ConversationState, text: str, lang: str, message_id: str | None, due: bool
    ) -> _Outcome | None:
        """Messages answered before retrieval: consent steps, "are you a bot?", a person, greetings."""
        client = self.knowledge.client
        if self.consent is not None:
            draft = self.consent.intercept(state.user_id, state.channel, text, lang, message_id)
            if draft is not None:
                return _Outcome(Decision.CONSENT, "consent", draft)
        if disclosure.asks_if_bot(text):
            answer = disclosure.bot_question_answer(client, lang)
            return _Outcome(Decision.ANSWERED, "bot_question", Draft(answer), discloses=True)
        if asks_for_human(text):
            return self._handover(state, text, lang, "user_request", {})
        if is_greeting(text):
            if due:
                return _Outcome(Decision.ANSWERED, "greeting", Draft(disclosure.disclosure_text(client, lang)), discloses=True)
            return _Outcome(Decision.ANSWERED, "greeting", Draft(say("greeting", lang)))
        chosen = _chosen_option(text, state.pending, self._entries)
        if chosen is not None:
            return self._answer(state, self._entries[chosen], text, lang, "clarified")
        follow_up = self._tapped_quick_reply(state, text, lang)
        if follow_up is not None:
            return self._answer(state, follow_up, text, lang, "quick_reply")
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
        if verdict.decision == Decision.HANDOVER:
            details = {
                "confidence": round(retrieval.confidence, 4),
                "threshold": self.limits.threshold,
                "top_hits": [{"entry": h.entry_id, "score": round(h.score, 4)} for h in retrieval.hits[:3]],
            }
            return self._handover(state, text, lang, verdict.reason, details)
        if verdict.decision == Decision.CLARIFY:
            options = clarify_options(retrieval, self.limits)
            titles = tuple(self._entries[i].question for i in options)
            return _Outcome(Decision.CLARIFY, verdict.reason, Draft(say("clarify", lang), quick_replies=titles), options)
        assert top is not None  # decide() hands over when there is no hit
        return self._answer(state, self._entries[top.entry_id], text, lang, verdict.reason)

    def _answer(self, state: ConversationState, entry: FaqEntry, text: str, lang: str, reason: str) -> _Outcome:
        if entry.scope == "marketing":
            if self.consent is not None:
                draft = self.consent.shape(entry, state.user_id, state.channel, lang)
            else:  # without a consent ledger nobody has opted in: the answer only, no promotion
                draft = Draft(entry.answer)
        else:
            draft = Draft(entry.answer, links=entry.links, quick_replies=entry.quick_replies)
        if self.phraser is None:
            return _Outcome(Decision.ANSWERED, reason, draft, (entry.id,))
        # Only answers are phrased, and only from the consent-shaped draft: the model never
        # sees a teaser the user has not opted into.
        phrased = self.phraser.phrase(PhraseRequest(draft, entry, text, lang, state.channel))
        return _Outcome(
            Decision.ANSWERED, reason, phrased.draft, (entry.id,), phrasing=phrased.phrasing, phrasing_reason=phrased.reason
        )

    def _not_asked(self, decision: Decision, phrasing: str = "verbatim") -> str:
        """Why the LLM did not phrase a reply: "" without an LLM or when it did."""
        if self.phraser is None or phrasing == "llm":
            return ""
        return f"not_asked:{decision.value}"

    def _handover(self, state: ConversationState, text: str, lang: str, reason: str, details: dict) -> _Outcome:
        transcript = (*self.store.transcript(state.id), {"role": "user", "text": text})
        handover = Handover(state.id, reason, details, transcript)
        return _Outcome(Decision.HANDOVER, reason, Draft(say(f"handover_{reason}", lang, self.knowledge.client)), handover=handover)

    def _next_state(self, state: ConversationState, outcome: _Outcome, lang: str, disclosed: bool) -> ConversationState:
        answered = outcome.decision == Decision.ANSWERED and bool(outcome.entries)
        missed = outcome.decision == Decision.CLARIFY or outcome.reason == "repeated_question"
        return replace(
            state,
            lang=lang,
            with_human=outcome.decision == Decision.HANDOVER,
            needs_disclosure=False if disclosed else state.needs_disclosure,
            misses=0 if outcome.decision == Decision.HANDOVER else (state.misses + 1 if missed else (0 if answered else state.misses)),
            last_entry=outcome.entries[0] if answered else state.last_entry,
            pending=outcome.entries if outcome.decision == Decision.CLARIFY else (),
        )


def _chosen_option(text: str, pending: tuple[str, ...], entries: dict[str, FaqEntry]) -> str | None:
    """The entry a user picked from a clarification, by its title or number."""
    if not pending:
        return None
    wanted = text.strip().lower()
    for number, entry_id in enumerate(pending, start=1):
        entry = entries.get(entry_id)
        if entry is None:
            continue
        title = entry.question.lower()
        if wanted in {str(number), title} or (len(wanted) >= 8 and title.startswith(wanted.rstrip("…."))):
            return entry_id
    return None


def _majority_language(knowledge: KnowledgeBase) -> str:
    counts: dict[str, int] = {}
    for entry in knowledge.entries:
        counts[entry.lang] = counts.get(entry.lang, 0) + 1
    return max(sorted(counts), key=lambda lang: counts[lang]) if counts else "en"
