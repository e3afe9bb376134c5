"""An in-notebook chat with the bot, shown as the chosen channel would show it.

```python
sim = ChatSimulator(bot, channel="whatsapp")
sim.send("Wie melde ich meinen Zählerstand?")
sim.show()   # text box, channel and consent pickers, bubbles, and the decision beside them
```

Changing the channel or the consent profile starts a new conversation (consent is kept
per channel, and a new user is disclosed to again), so the disclosure shows every time.

On a workshop `Session` the simulator also fixes what it got wrong: the last message becomes a
phrasing of the right entry, a new entry or a test case, and the next message uses the change.
"""

from __future__ import annotations

import html
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import ipywidgets as widgets
from IPython.display import HTML, display

from botkit.bot import Bot
from botkit.channels import CHANNELS
from botkit.consent import ConsentFlow
from botkit.consent.flow import title
from botkit.errors import BotkitError, ConfigError
from botkit.store import QueuedHandover
from botkit.types import Decision, Message, Reply
from botkit.workbench import fixes
from botkit.workbench.bubbles import bot_bubbles, chat, display_name, note, reply_options, user_bubble
from botkit.workbench.notices import problem_html
from botkit.workbench.script import main_language
from botkit.workbench.session import Session

NO_CONSENT = "no consent"
ALL_TOPICS = "all topics"
PROFILE_EVIDENCE = "workbench chat simulator: consent profile chosen by the consultant"
_DECISION_COLOURS = {
    Decision.ANSWERED: "#15803d",
    Decision.CLARIFY: "#b45309",
    Decision.HANDOVER: "#b91c1c",
    Decision.SILENT: "#6b7280",
    Decision.CONSENT: "#7c3aed",
}


@dataclass(frozen=True)
class Turn:
    """One user message and the bot's reply, with the channel it was shown in."""

    text: str
    reply: Reply
    channel: str


class ChatSimulator:
    """A chat with a bot in a notebook: bubbles per channel, decision and cited entries beside them.

    Args:
        bot: the bot, or a workshop `Session` (then the fixes are offered and reload the bot).
        consent: a consent profile name from `profiles`, or a consent topic id (that topic alone).
        user_id: a fixed user (e.g. "anna" in the consent notebook); default: a new one per conversation.
    """

    def __init__(self, bot: Bot | Session, *, channel: str = "whatsapp", consent: str = NO_CONSENT, user_id: str | None = None) -> None:
        self.session = bot if isinstance(bot, Session) else None
        self.bot = bot.bot if isinstance(bot, Session) else bot
        self.fixed_user = user_id
        self.profiles = _profiles(self.bot)
        self.channel = _check_channel(channel)
        self.consent = self._check_profile(consent)
        self.turns: list[Turn] = []
        self.conversation_id = ""
        self._notes: list[tuple[int, str]] = []  # (after how many turns, HTML): events between turns, a person's messages
        self._view: _View | None = None
        self.reset()

    @property
    def user_id(self) -> str:
        return self.fixed_user or self.conversation_id

    def reset(self, *, channel: str | None = None, consent: str | None = None) -> None:
        """Start a new conversation, optionally on another channel or consent profile."""
        self.channel = _check_channel(channel) if channel else self.channel
        self.consent = self._check_profile(consent) if consent else self.consent
        self.conversation_id = f"sim-{uuid.uuid4().hex[:10]}"
        self.turns = []
        self._notes = []
        flow = self.bot.consent
        if isinstance(flow, ConsentFlow):
            for topic in self.profiles[self.consent]:
                if not flow.ledger.is_granted(self.user_id, self.channel, topic):
                    flow.ledger.grant(self.user_id, self.channel, topic, method="operator", evidence=PROFILE_EVIDENCE)
        self._refresh()

    def send(self, text: str) -> Reply:
        """Send a user message and record the bot's reply."""
        reply = self.bot.reply(self.conversation_id, text, self.channel, user_id=self.user_id)
        self.turns.append(Turn(text, reply, self.channel))
        self._refresh()
        return reply

    @property
    def handover(self) -> QueuedHandover | None:
        """This conversation's handover while it waits for a person or a person has it; else None."""
        mine = [h for h in self.bot.queue(None) if h.conversation_id == self.conversation_id and h.status != "released"]
        return mine[-1] if mine else None

    def take(self, person: str = "") -> QueuedHandover:
        """A person takes this conversation from the queue: the bot falls silent (except for STOP)."""
        item = self.handover
        if item is None:
            raise ConfigError("nothing to take: this conversation is not waiting for a person (ask for a person first)")
        taken = self.bot.take(item.id, person)
        self._notes.append((len(self.turns), note(f"{person or 'a person'} took the conversation; the bot is silent now")))
        self._refresh()
        return taken

    def person_says(self, text: str) -> tuple[Message, ...]:
        """A message from the person who took the conversation, as the customer sees it."""
        item = self.handover
        if item is None or item.status != "with_person":
            raise ConfigError("take the conversation first (the queue panel's Take button), then write as the person")
        messages = self.bot.person_says(item.id, text)
        who = item.taken_by or "person"
        self._notes.append((len(self.turns), note(f"{who} (a person) writes:") + bot_bubbles(messages, self.channel)))
        self._refresh()
        return messages

    def release(self) -> None:
        """A person hands the conversation back to the bot (it discloses itself again)."""
        self.bot.release(self.conversation_id)
        self._notes.append((len(self.turns), note("a person handed the conversation back to the bot")))
        self._refresh()

    @property
    def last_question(self) -> str:
        """The last message the user typed (what a fix applies to)."""
        if not self.turns:
            raise ConfigError("send a message first; the fixes apply to the last message")
        return self.turns[-1].text

    def correct(self, entry_id: str) -> None:
        """Wrong answer: `entry_id` is the right entry. The message becomes its phrasing and a test case."""
        question = self.last_question
        workshop = fixes.add_paraphrase(self._session().workshop, entry_id, question)
        fixes.save_case(workshop, question, entry_id, self._lang())
        self._reload(f"“{question}” is now a phrasing of {entry_id} and a test case; ask it again")

    def add_paraphrase(self, entry_id: str | None = None) -> None:
        """Add the last message as a phrasing of `entry_id` (default: the entry the bot answered from)."""
        entry_id = entry_id or self._cited()
        fixes.add_paraphrase(self._session().workshop, entry_id, self.last_question)
        self._reload(f"“{self.last_question}” is now a phrasing of {entry_id}")

    def new_entry(self, answer: str, *, topic: str = "") -> str:
        """Make the last message the question of a new entry with `answer`; returns the new id."""
        entry = fixes.new_entry(self._session().workshop, self.last_question, answer, topic=topic, lang=self._lang())
        self._reload(f"new entry {entry.id} from “{entry.question}”")
        return entry.id

    def save_case(self, entry_id: str | None = None, *, out_of_scope: bool = False) -> None:
        """Save the last message as a test case: for `entry_id` (default: the cited one) or out of scope."""
        expected = None if out_of_scope else (entry_id or self._cited())
        fixes.save_case(self._session().workshop, self.last_question, expected, self._lang())
        self._notes.append((len(self.turns), note(f"saved as a test case ({expected or 'a person should answer'})")))
        self._refresh()

    def _session(self) -> Session:
        if self.session is None:
            raise ConfigError("fixes need the workshop: create the simulator with wb.ChatSimulator(session)")
        return self.session

    def _cited(self) -> str:
        reply = self.turns[-1].reply if self.turns else None
        if reply is not None and reply.entries:
            return reply.entries[0]
        if reply is not None and reply.retrieval is not None and reply.retrieval.top is not None:
            return reply.retrieval.top.entry_id
        raise ConfigError("the bot named no entry for this message; choose the right entry from the list")

    def _lang(self) -> str:
        return main_language(self.bot.knowledge)

    def _reload(self, what: str) -> None:
        self.bot = self._session().reload()
        self._notes.append((len(self.turns), note(f"knowledge updated: {what}")))
        self._refresh()

    @property
    def with_human(self) -> bool:
        """Has a person taken the conversation (and not handed it back)?"""
        item = self.handover
        return item is not None and item.status == "with_person"

    def chat_html(self) -> str:
        """The conversation as chat bubbles with a short decision line under each reply."""
        user = f" · user {self.fixed_user}" if self.fixed_user else ""
        parts = [note(f"{display_name(self.channel)}{user} · consent profile: {self.consent}")]
        notes: dict[int, list[str]] = {}
        for after, shown in self._notes:
            notes.setdefault(after, []).append(shown)
        for n, turn in enumerate(self.turns):
            parts.extend(notes.get(n, ()))
            parts.append(user_bubble(turn.text, turn.channel))
            parts.append(bot_bubbles(turn.reply.messages, turn.channel))
            parts.append(_meta(turn.reply))
            if turn.reply.handover is not None:
                parts.append(note("handed over: waiting in the queue for a person"))
        parts.extend(notes.get(len(self.turns), ()))
        return chat("".join(parts), self.channel)

    def details_html(self) -> str:
        """The last reply's decision, confidence, cited entries and handover, for the side panel."""
        if not self.turns:
            return "<p><i>Send a message to see the bot's decision here.</i></p>"
        return _details(self.turns[-1].reply, self.bot)

    def _repr_html_(self) -> str:
        return f'<div style="display:flex;gap:12px"><div style="flex:3">{self.chat_html()}</div><div style="flex:2">{self.details_html()}</div></div>'

    def show(self) -> None:
        """Display the interactive chat: type a message, tap buttons, switch channel and consent."""
        if self._view is None:
            self._view = _View(self)
        self._refresh()
        display(self._view.box)  # type: ignore[no-untyped-call]  # IPython.display is untyped

    def transcript(self) -> HTML:
        """The conversation so far as a static picture (shows in exported notebooks too)."""
        return HTML(self._repr_html_())  # type: ignore[no-untyped-call]  # IPython.display is untyped

    def _check_profile(self, name: str) -> str:
        by_topic = {topics[0]: profile for profile, topics in self.profiles.items() if len(topics) == 1}
        name = by_topic.get(name, name)
        if name not in self.profiles:
            raise ConfigError(f"unknown consent profile {name!r}; known: {', '.join(self.profiles)}")
        return name

    def _refresh(self) -> None:
        if self._view is not None:
            self._view.update()


def transcripts(simulators: Sequence[ChatSimulator]) -> HTML:
    """Several simulated users side by side (e.g. in the consent notebook)."""
    cells = "".join(f'<div style="flex:1;min-width:260px">{s.chat_html()}</div>' for s in simulators)
    return HTML(f'<div style="display:flex;gap:10px;flex-wrap:wrap">{cells}</div>')  # type: ignore[no-untyped-call]  # IPython.display is untyped


def channel_previews(previews: Mapping[str, Sequence[Message]]) -> HTML:
    """Messages per channel side by side, e.g. from `preview_campaign` or `preview_opt_in`."""
    cells = "".join(f'<div style="flex:1;min-width:240px">{chat(note(display_name(c)) + bot_bubbles(m, c), c)}</div>' for c, m in previews.items())
    return HTML(f'<div style="display:flex;gap:10px;flex-wrap:wrap">{cells}</div>')  # type: ignore[no-untyped-call]  # IPython.display is untyped


class _View:
    """The widgets of one simulator; kept apart so the simulator itself runs without a display."""

    def __init__(self, sim: ChatSimulator) -> None:
        self.sim = sim
        self.channel = widgets.Dropdown(options=list(CHANNELS), value=sim.channel, description="Channel")
        self.consent = widgets.Dropdown(options=list(sim.profiles), value=sim.consent, description="Consent")
        self.new = widgets.Button(description="New conversation", icon="refresh")
        # Enter (or leaving the box) sends: the value only syncs then.
        self.text = widgets.Text(placeholder="Type what a customer would write, then Enter …", continuous_update=False, layout=widgets.Layout(flex="1"))
        self.send = widgets.Button(description="Send", button_style="primary", icon="paper-plane")
        self.chat = widgets.HTML()
        self.details = widgets.HTML(layout=widgets.Layout(width="40%"))
        self.options = widgets.HBox()
        self.channel.observe(lambda change: sim.reset(channel=change["new"]), names="value")
        self.consent.observe(lambda change: sim.reset(consent=change["new"]), names="value")
        self.new.on_click(lambda _: sim.reset())
        self.queue = _QueuePanel(sim)
        self.hand_back = self.queue.hand_back
        self.send.on_click(lambda _: self.submit())
        self.text.observe(lambda _: self.submit(), names="value")
        rows = [
            widgets.HBox([self.channel, self.consent, self.new]),
            widgets.HBox([widgets.Box([self.chat], layout=widgets.Layout(width="60%")), self.details]),
            self.options,
            widgets.HBox([self.text, self.send]),
            self.queue.box,
        ]
        self.fix = _FixPanel(sim) if sim.session is not None else None
        self.box = widgets.VBox([*rows, *([self.fix.box] if self.fix else [])])

    def submit(self) -> None:
        text = self.text.value.strip()
        if text:
            self.text.value = ""
            self.sim.send(text)

    def update(self) -> None:
        self.chat.value = self.sim.chat_html()
        self.details.value = self.sim.details_html()
        self.queue.update()
        last = self.sim.turns[-1].reply.messages if self.sim.turns else ()
        buttons = []
        for shown, sends in (o for m in last for o in reply_options(m)):
            button = widgets.Button(description=shown, tooltip=f"sends {sends!r}")
            button.on_click(lambda _, sends=sends: self.sim.send(sends))
            buttons.append(button)
        self.options.children = buttons
        if self.fix is not None:
            self.fix.update()


class _QueuePanel:
    """The person's side: the queue of handovers; take this conversation, write as the person, hand back."""

    def __init__(self, sim: ChatSimulator) -> None:
        self.sim = sim
        self.table = widgets.HTML()
        self.person = widgets.Text(value="Consultant", description="Person", layout=widgets.Layout(width="240px"))
        self.take = widgets.Button(description="Take", icon="hand-paper-o", layout=widgets.Layout(width="auto"))
        self.text = widgets.Text(placeholder="Write as the person …", continuous_update=False, layout=widgets.Layout(flex="1"))
        self.say = widgets.Button(description="Send as person", icon="user", layout=widgets.Layout(width="auto"))
        self.hand_back = widgets.Button(description="Person hands back", icon="reply", layout=widgets.Layout(width="auto"))
        self.status = widgets.HTML()
        self.take.on_click(lambda _: self.run(lambda: sim.take(self.person.value.strip())))
        self.say.on_click(lambda _: self.submit())
        self.text.observe(lambda _: self.submit(), names="value")
        self.hand_back.on_click(lambda _: self.run(sim.release))
        self.box = widgets.VBox(
            [
                widgets.HTML("<b>The person's side</b>: the queue your service team sees"),
                self.table,
                widgets.HBox([self.person, self.take, self.text, self.say, self.hand_back]),
                self.status,
            ]
        )

    def submit(self) -> None:
        text = self.text.value.strip()
        if text:
            self.text.value = ""
            self.run(lambda: self.sim.person_says(text))

    def run(self, action: Callable[[], object]) -> None:
        try:
            action()
        except BotkitError as exc:
            self.status.value = problem_html(exc)
        else:
            self.status.value = ""

    def update(self) -> None:
        self.table.value = queue_html(self.sim.bot.queue(None), self.sim.conversation_id)
        item = self.sim.handover
        self.take.disabled = item is None or item.status != "waiting"
        self.say.disabled = self.text.disabled = item is None or item.status != "with_person"
        self.hand_back.disabled = item is None


def queue_html(items: Sequence[QueuedHandover], current: str = "") -> str:
    """The open handovers (waiting or with a person) as a small table; `current` conversation in bold."""
    rows = [h for h in items if h.status != "released"]
    if not rows:
        return "<p style='color:#555;font-size:12px'><i>Nobody is waiting for a person.</i></p>"
    body = "".join(
        f"<tr style='font-weight:{'bold' if h.conversation_id == current else 'normal'}'><td>{h.id}</td>"
        f"<td>{html.escape(h.conversation_id)}</td><td>{html.escape(h.channel)}</td><td>{html.escape(h.reason)}</td>"
        f"<td>{html.escape(h.status)}{' · ' + html.escape(h.taken_by) if h.taken_by else ''}</td><td>{len(h.transcript)}</td></tr>"
        for h in rows
    )
    return (
        "<table style='font-size:12px;border-collapse:collapse'><tr><th>id</th><th>conversation</th><th>channel</th>"
        f"<th>reason</th><th>status</th><th>messages</th></tr>{body}</table>"
    )


class _FixPanel:
    """See it wrong, fix it, re-test: the simulator's fixes as buttons on the last message."""

    def __init__(self, sim: ChatSimulator) -> None:
        self.sim = sim
        self.entry = widgets.Dropdown(description="Right entry", layout=widgets.Layout(width="520px"))
        self.wrong = widgets.Button(description="Wrong answer → this entry", icon="check", button_style="warning", layout=widgets.Layout(width="auto"))
        self.paraphrase = widgets.Button(description="Add as paraphrase", icon="plus", layout=widgets.Layout(width="auto"))
        self.case = widgets.Button(description="Save as test case", icon="save", layout=widgets.Layout(width="auto"))
        self.oos = widgets.Button(description="Save: a person should answer", icon="user", layout=widgets.Layout(width="auto"))
        self.answer = widgets.Textarea(placeholder="The answer for a new entry from this question …", layout=widgets.Layout(width="520px"))
        self.create = widgets.Button(description="New entry from this question", icon="file", layout=widgets.Layout(width="auto"))
        self.status = widgets.HTML()
        self.wrong.on_click(lambda _: self.run(lambda: sim.correct(self.entry.value)))
        self.paraphrase.on_click(lambda _: self.run(lambda: sim.add_paraphrase(self.entry.value)))
        self.case.on_click(lambda _: self.run(lambda: sim.save_case(self.entry.value)))
        self.oos.on_click(lambda _: self.run(lambda: sim.save_case(out_of_scope=True)))
        self.create.on_click(lambda _: self.run(lambda: sim.new_entry(self.answer.value)))
        self.box = widgets.VBox(
            [
                widgets.HTML("<b>Fix the last message</b> (changes go to the knowledge files and cases/cases.csv; the next message uses them)"),
                widgets.HBox([self.entry, self.wrong, self.paraphrase]),
                widgets.HBox([self.case, self.oos]),
                widgets.HBox([self.answer, self.create]),
                self.status,
            ]
        )

    def run(self, fix: Callable[[], object]) -> None:
        """Apply a fix; an expected problem is shown as a short message, not a traceback."""
        try:
            fix()
        except BotkitError as exc:
            self.status.value = problem_html(exc)
        else:
            self.status.value = ""
            self.answer.value = ""

    def update(self) -> None:
        entries = self.sim.bot.knowledge.entries
        options = [(f"{e.id}: {e.question[:70]}", e.id) for e in entries]
        cited = self.sim.turns[-1].reply.entries if self.sim.turns else ()
        current = self.entry.value
        self.entry.options = options
        ids = [e.id for e in entries]
        self.entry.value = cited[0] if cited and cited[0] in ids else (current if current in ids else (ids[0] if ids else None))


def _profiles(bot: Bot) -> dict[str, tuple[str, ...]]:
    """Consent profiles: none, each topic alone, all topics (only none without a consent ledger)."""
    profiles: dict[str, tuple[str, ...]] = {NO_CONSENT: ()}
    if not isinstance(bot.consent, ConsentFlow):
        return profiles
    topics = bot.knowledge.client.topics
    lang = main_language(bot.knowledge)  # consent titles in the client's language
    for topic in topics:
        profiles[title(topic, lang)] = (topic.id,)
    if len(topics) > 1:
        profiles[ALL_TOPICS] = tuple(t.id for t in topics)
    return profiles


def _check_channel(channel: str) -> str:
    if channel not in CHANNELS:
        raise ConfigError(f"unknown channel {channel!r}; known: {', '.join(CHANNELS)}")
    return channel


def _meta(reply: Reply) -> str:
    colour = _DECISION_COLOURS[reply.decision]
    cited = ", ".join(reply.entries) or "–"
    disclosed = " · disclosed" if reply.disclosed else ""
    return (
        f'<div class="bk-meta"><b style="color:{colour}">{reply.decision.value}</b> ({html.escape(reply.reason)})'
        f" · confidence {reply.confidence:.2f} · {html.escape(cited)}{disclosed}</div>"
    )


def _details(reply: Reply, bot: Bot) -> str:
    colour = _DECISION_COLOURS[reply.decision]
    entries = bot.knowledge.by_id()
    rows = [
        f'<h4 style="margin:0 0 6px">Decision: <span style="color:{colour}">{reply.decision.value}</span></h4>',
        f"<div>reason: <code>{html.escape(reply.reason)}</code></div>",
        _confidence_bar(reply.confidence, bot.limits.threshold),
    ]
    if reply.entries:
        cited = "".join(f"<li><code>{html.escape(e)}</code>: {html.escape(entries[e].question) if e in entries else ''}</li>" for e in reply.entries)
        rows.append(f"<div>cited entries:<ul style='margin:2px 0'>{cited}</ul></div>")
    if reply.retrieval is not None and reply.retrieval.hits:
        hits = "".join(
            f"<tr><td><code>{html.escape(h.entry_id)}</code></td><td>{h.score:.2f}</td><td>{html.escape(h.matched)}</td></tr>" for h in reply.retrieval.hits[:3]
        )
        rows.append(
            "<div>closest entries:<table style='font-size:12px;border-collapse:collapse'>"
            f"<tr><th>entry</th><th>score</th><th>matched phrasing</th></tr>{hits}</table></div>"
        )
    rows.append(f"<div>disclosed as a bot in this reply: <b>{'yes' if reply.disclosed else 'no'}</b></div>")
    if reply.handover is not None:
        rows.append(
            "<div style='margin-top:6px;padding:6px;background:#fef2f2;border-radius:6px'>"
            f"<b>Handover</b> ({html.escape(reply.handover.reason)}): the conversation waits in the queue for a person, "
            f"with a transcript of {len(reply.handover.transcript)} message(s). Meanwhile the bot still answers confident "
            "FAQ questions; once a person takes it, the bot is silent until the person hands it back.</div>"
        )
    if reply.decision == Decision.SILENT:
        rows.append("<div><i>A person has this conversation; the bot does not answer.</i></div>")
    return "<div style='font-family:system-ui,sans-serif;font-size:13px'>" + "".join(rows) + "</div>"


def _confidence_bar(confidence: float, threshold: float) -> str:
    width = round(confidence * 100)
    colour = "#16a34a" if confidence >= threshold else "#dc2626"
    return (
        f"<div>confidence {confidence:.2f} (threshold {threshold:.2f})"
        "<div style='position:relative;height:10px;background:#e5e7eb;border-radius:5px;margin:3px 0 6px'>"
        f"<div style='width:{width}%;height:10px;background:{colour};border-radius:5px'></div>"
        f"<div style='position:absolute;left:{round(threshold * 100)}%;top:-3px;height:16px;border-left:2px solid #111'></div>"
        "</div></div>"
    )
