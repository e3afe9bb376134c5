"""Run a bot over test cases and conversation scripts and record what it did.

Give it a bot on a fresh database (e.g. `Settings(database_url="sqlite://")`): every case
is a new conversation, and a conversation id that already exists is refused. Latencies are
those of `Bot.reply`, measured after one untimed retrieval that loads the embedding model.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from botkit.bot import Bot
from botkit.channels import prefer_gsm7
from botkit.channels.limits import message_problems, visible_text
from botkit.channels.markup import to_plain
from botkit.consent import ConsentLedger, send_campaign
from botkit.errors import ConfigError
from botkit.evaluation.cases import Case, Conversation, Turn
from botkit.evaluation.metrics import CaseResult, percentile
from botkit.index import ProgressFn
from botkit.policy.disclosure import says_it_is_a_bot
from botkit.testing import ManualClock
from botkit.types import Decision, FaqEntry, Message, Reply

Timer = Callable[[], float]
NOT_SUPPORTED = "not supported: this bot has no consent ledger (a botkit.consent.ConsentFlow, as open_bot wires it)"
PRELOAD_EVIDENCE = "granted by the evaluation script before its first turn"


def evaluate_cases(bot: Bot, cases: Sequence[Case], *, progress: ProgressFn | None = None, timer: Timer = time.perf_counter) -> list[CaseResult]:
    """Ask every case as the first message of a new web conversation and record the outcome."""
    if cases:
        _warm_up(bot, cases[0].question)
    results = []
    for i, case in enumerate(cases):
        conversation_id = f"eval-case-{i + 1}"
        _require_new(bot, conversation_id)
        start = timer()
        reply = bot.reply(conversation_id, case.question, "web")
        latency_ms = (timer() - start) * 1000
        ranking = reply.retrieval or bot.retriever.retrieve(case.question, lang=case.lang)
        results.append(
            CaseResult(
                question=case.question,
                lang=case.lang,
                expected_id=case.expected_id,
                decision=reply.decision,
                reason=reply.reason,
                entries=reply.entries,
                ranked=tuple(h.entry_id for h in ranking.hits),
                confidence=ranking.confidence,
                margin=ranking.margin,
                latency_ms=latency_ms,
                source=case.source,
                retrieval=reply.retrieval,
            )
        )
        if progress is not None:
            progress(i + 1, len(cases))
    return results


@dataclass(frozen=True)
class Check:
    """One expectation of a script step: what was expected, what happened, did it pass."""

    key: str
    expected: Any
    actual: Any
    passed: bool
    note: str = ""


@dataclass(frozen=True)
class TurnResult:
    """One step of a script with the bot's messages and every check made on them."""

    conversation: str
    step: int
    channel: str
    user: str  # the user's message, or "[campaign TOPIC] text"
    decision: str  # a `Decision` value, or "campaign"
    entries: tuple[str, ...]
    messages: tuple[str, ...]
    disclosed: bool
    checks: tuple[Check, ...]
    format_problems: tuple[str, ...]  # hard channel limits broken by the messages
    marketing_leaks: tuple[str, ...]  # topics whose promotional content was sent without consent
    latency_ms: float
    source: str
    stranded: bool = False  # a user message that got neither a reply nor a person

    @property
    def failed(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if not c.passed)


@dataclass(frozen=True)
class ConversationResult:
    """A script's outcome: checks made before the first turn (consents) and per turn."""

    name: str
    channel: str
    source: str
    setup: tuple[Check, ...]
    turns: tuple[TurnResult, ...]

    @property
    def checks(self) -> tuple[Check, ...]:
        return (*self.setup, *(c for t in self.turns for c in t.checks))

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks) and not any(t.format_problems or t.marketing_leaks for t in self.turns)

    @property
    def disclosed_first(self) -> bool:
        """The first bot reply said it is a bot."""
        first = next((t for t in self.turns if t.decision != "campaign"), None)
        return first is not None and first.disclosed and any(says_it_is_a_bot(m) for m in first.messages)


def evaluate_conversations(
    bot: Bot,
    conversations: Sequence[Conversation],
    *,
    progress: ProgressFn | None = None,
    timer: Timer = time.perf_counter,
    clock: ManualClock | None = None,
) -> list[ConversationResult]:
    """Play every script as a new conversation and check its expectations and channel formats.

    Each script's user first gets its `consents` granted in the bot's ledger (method
    "operator"); campaign steps go through `botkit.consent.send_campaign`. `wait` steps move
    `clock` (the bot's clock) forward and then deliver what the bot sends on its own (the
    "nobody came" notice); scripts with waits need it (a bot opened with a `ManualClock` brings its own).
    """
    if clock is None and isinstance(bot.clock, ManualClock):
        clock = bot.clock
    total = sum(len(c.turns) for c in conversations)
    _warm_up(bot, next((t.user for c in conversations for t in c.turns if t.user), "Hallo"))
    done = 0
    results = []
    for n, script in enumerate(conversations, start=1):
        player = _Player(bot, script, f"eval-conversation-{n}", timer, clock)
        turns = []
        for step, turn in enumerate(script.turns, start=1):
            turns.append(player.play(step, turn))
            done += 1
            if progress is not None:
                progress(done, total)
        results.append(ConversationResult(script.name, script.channel, script.source, player.setup, tuple(turns)))
    return results


class _Player:
    """Plays one script against the bot as one user, reading consent from the bot's ledger."""

    def __init__(self, bot: Bot, script: Conversation, conversation_id: str, timer: Timer, clock: ManualClock | None) -> None:
        _require_new(bot, conversation_id)
        self.bot = bot
        self.script = script
        self.id = conversation_id  # also the user id
        self.timer = timer
        self.clock = clock
        self.ledger: ConsentLedger | None = bot.ledger
        self.marketing = [e for e in bot.knowledge.entries if e.scope == "marketing" and e.teaser]
        self.setup: tuple[Check, ...] = ()
        if script.consents and self.ledger is None:
            self.setup = (Check("consents", list(script.consents), None, False, NOT_SUPPORTED),)
        elif self.ledger is not None:
            for topic in script.consents:
                self.ledger.grant(self.id, script.channel, topic, method="operator", evidence=PRELOAD_EVIDENCE)

    def play(self, step: int, turn: Turn) -> TurnResult:
        """Send the user message or the campaign, then check every expectation of the step."""
        before = self._granted()
        start = self.timer()
        reply: Reply | None = None
        delivered: bool | None = None
        why = ""
        if turn.user is not None:
            reply = self.bot.reply(self.id, turn.user, self.script.channel)
            messages, shown = reply.messages, turn.user
        elif turn.campaign is not None:
            delivered, why, messages = self._campaign(step, turn.campaign.topic, turn.campaign.text)
            shown = f"[campaign {turn.campaign.topic}] {turn.campaign.text}"
        elif turn.person is not None:
            messages, shown = self._person(turn.person), f"[person] {turn.person}"
        else:
            assert turn.wait is not None  # cases.py: exactly one kind of step
            messages, shown = self._wait(turn.wait), f"[wait {turn.wait:g} s]"
        latency_ms = (self.timer() - start) * 1000
        state = self.bot.store.load(self.id, self.id, self.script.channel)
        # Promotion is allowed only on topics whose consent stood before and still stands after the step.
        leaks = _leaks(messages, self.marketing, before & self._granted())
        checks = []
        for key, expected in turn.expect.items():
            if key == "delivered":
                checks.append(self._delivered_check(expected, delivered, why))
            elif key == "consent":
                checks.append(self._consent_check(expected))
            elif key == "no_marketing":
                note = f"promoted without consent: {', '.join(leaks)}" if leaks else ""
                checks.append(Check(key, expected, not leaks, not leaks, note))
            elif key == "waiting":
                waiting = state.waiting_since is not None
                checks.append(Check(key, expected, waiting, waiting == expected))
            elif key == "with_person":
                checks.append(Check(key, expected, state.with_human, state.with_human == expected))
            else:
                assert reply is not None  # cases.py allows the other keys on user turns only
                checks.append(_check(key, expected, reply))
        return TurnResult(
            conversation=self.script.name,
            step=step,
            channel=self.script.channel,
            user=shown,
            decision=reply.decision.value if reply else turn.kind,
            entries=reply.entries if reply else (),
            messages=tuple(m.text for m in messages),
            disclosed=reply.disclosed if reply else False,
            checks=tuple(checks),
            format_problems=tuple(f"message {i}: {p}" for i, m in enumerate(messages, start=1) for p in message_problems(m)),
            marketing_leaks=leaks,
            latency_ms=latency_ms,
            source=turn.source,
            stranded=reply is not None and not reply.messages and not state.with_human,
        )

    def _person(self, action: str) -> tuple[Message, ...]:
        """A person takes the conversation, hands it back, or writes to the user."""
        mine = [h for h in self.bot.queue(None) if h.conversation_id == self.id and h.status != "released"]
        if action == "take":
            if mine:
                self.bot.take(mine[-1].id, "evaluation")
            else:
                self.bot.take_conversation(self.id, self.id, self.script.channel, "evaluation")
            return ()
        if action == "release":
            self.bot.release(self.id)
            return ()
        taken = [h for h in mine if h.status == "with_person"]
        if not taken:
            raise ConfigError(f"{self.script.name}: a person writes before 'person: take'")
        return self.bot.person_says(taken[-1].id, action)

    def _wait(self, seconds: float) -> tuple[Message, ...]:
        """Time passes on the test clock; the bot then sends what it sends on its own."""
        if self.clock is None:
            raise ConfigError(f"{self.script.name}: 'wait' steps need the evaluation's test clock")
        self.clock.advance(seconds)
        overdue = [h for h in self.bot.overdue() if h.conversation_id == self.id]
        return tuple(m for h in overdue for m in self.bot.nobody_came(h.id).messages)

    def _granted(self) -> frozenset[str]:
        if self.ledger is None:
            return frozenset()
        return frozenset(t for t in self.ledger.topics if self.ledger.is_granted(self.id, self.script.channel, t))

    def _campaign(self, step: int, topic: str, text: str) -> tuple[bool | None, str, tuple[Message, ...]]:
        """(delivered to this user, why not, the messages they got); None when there is no ledger."""
        if self.ledger is None:
            return None, NOT_SUPPORTED, ()
        sent: list[Message] = []

        def send(user_id: str, channel: str, messages: Sequence[Message]) -> None:
            if (user_id, channel) == (self.id, self.script.channel):
                sent.extend(messages)

        report = send_campaign(self.ledger, topic, text, send=send, campaign=f"{self.id}-step-{step}")
        mine = [r for r in report.results if (r.user_id, r.channel) == (self.id, self.script.channel)]
        delivered = any(r.status == "delivered" for r in mine)
        why = "" if delivered else ("; ".join(r.reason for r in mine) or "no standing consent for the topic")
        return delivered, why, tuple(sent)

    def _delivered_check(self, expected: bool, delivered: bool | None, why: str) -> Check:
        if delivered is None:
            return Check("delivered", expected, None, False, NOT_SUPPORTED)
        return Check("delivered", expected, delivered, delivered == expected, why)

    def _consent_check(self, expected: dict[str, str]) -> Check:
        if self.ledger is None:
            return Check("consent", expected, None, False, NOT_SUPPORTED)
        actual = {}
        for topic in expected:
            event = self.ledger.state(self.id, self.script.channel, topic)
            granted = self.ledger.is_granted(self.id, self.script.channel, topic)
            actual[topic] = "granted" if granted else (event.state if event else "never asked")
        return Check("consent", expected, actual, actual == expected)


def _check(key: str, expected: Any, reply: Reply) -> Check:
    if key == "disclosure":
        says = any(says_it_is_a_bot(m.text) for m in reply.messages)
        actual = says and reply.disclosed
        passed = actual if expected else not (says or reply.disclosed)
        return Check(key, expected, actual, passed, "" if says == reply.disclosed else f"text says bot: {says}, flag: {reply.disclosed}")
    if key == "entry":
        answered = reply.decision == Decision.ANSWERED and bool(reply.entries)
        entry = reply.entries[0] if answered else reply.decision.value
        return Check(key, expected, entry, answered and entry == expected)
    if key == "handover":
        handed = reply.decision == Decision.HANDOVER
        return Check(key, expected, handed, handed == expected)
    if key == "clarify":
        actual = reply.decision == Decision.CLARIFY
        return Check(key, expected, actual, actual == expected)
    raise AssertionError(f"no check for expectation {key!r}")  # cases.py admits only known keys


def _normal(text: str) -> str:
    return " ".join(prefer_gsm7(text).lower().split())


def _leaks(messages: Sequence[Message], marketing: list[FaqEntry], consented: frozenset[str]) -> tuple[str, ...]:
    """Topics whose promotional teaser appears in the messages without the user's consent for them."""
    sent = _normal(" ".join(visible_text(m) for m in messages))
    return tuple(sorted({e.topic for e in marketing if e.topic not in consented and _normal(to_plain(e.teaser)) in sent}))


def _warm_up(bot: Bot, text: str) -> None:
    # The embedder loads its model on first use (seconds); that is start-up, not reply latency.
    # A regression still being refitted in the background is awaited, so results do not depend on timing.
    bot.retriever.retrieve(text)
    if bot.retriever.fitter is not None:
        bot.retriever.fitter.wait()


def _require_new(bot: Bot, conversation_id: str) -> None:
    if bot.store.transcript(conversation_id):
        raise ConfigError(
            f"the bot's database already holds conversation {conversation_id!r}; evaluate on a fresh database, e.g. Settings(database_url='sqlite://')"
        )


def conversation_metrics(results: Sequence[ConversationResult]) -> dict[str, float | int | None]:
    """The metrics of `botkit eval --json` for conversation scripts, rounded to 4 decimals.

    Single-turn metrics (accuracy, ranking) are None here: a script checks behaviour, not ranking.
    """
    turns = [t for r in results for t in r.turns]
    latencies = [t.latency_ms for t in turns if t.decision != "campaign"]
    checks = [c for r in results for c in r.checks]
    values: dict[str, float | int | None] = {
        "n_cases": len(results),
        "in_scope_accuracy": None,
        "oos_recall": None,
        "handover_precision": None,
        "hit_at_1": None,
        "hit_at_3": None,
        "mrr": None,
        "oos_auroc": None,
        "clarify_rate": None,
        "suggest_rate": None,
        "wrong_answer_rate": None,
        "resolved_rate": None,
        "latency_ms_p50": percentile(latencies, 50),
        "latency_ms_p99": percentile(latencies, 99),
        "turns": len(turns),
        "expectations": len(checks),
        "expectations_failed": sum(not c.passed for c in checks),
        "expectations_not_supported": sum(c.note == NOT_SUPPORTED for c in checks),
        "disclosure_rate": sum(r.disclosed_first for r in results) / len(results) if results else None,
        "consent_violations": sum(bool(t.marketing_leaks) for t in turns),
        "format_violations": sum(len(t.format_problems) for t in turns),
        "stranded": sum(t.stranded for t in turns),
    }
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in values.items()}
