"""The person's side of a bot's database: the handover queue, taking, releasing, flagging a wrong answer.

`Bot` is a `Desk` with a retriever and the ladder. With `BOTKIT_WEB_REPLIES=0` the web only
verifies, saves and acknowledges, and the agent API reads and writes handovers; `botkit worker`
processes reply. Such a web process opens a `Desk` instead of the whole `Bot`: no embedder, no
index, no intent matcher (about 350 MB and seconds of start-up less per web process).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from botkit.config import Settings
from botkit.review import ReviewMessage, flag_wrong_answer
from botkit.store import ConversationStore, QueuedHandover


class Desk:
    """The handover desk of a bot's database: the `Bot` methods the agent API uses, without a retriever."""

    def __init__(self, store: ConversationStore) -> None:
        self.store = store

    def queue(self, status: str | None = "waiting") -> list[QueuedHandover]:
        """Handovers, oldest first: "waiting" (default), "with_person", "released", or None for all."""
        return self.store.queue(status)

    def handover(self, handover_id: int) -> QueuedHandover:
        """One handover with the conversation's transcript as it is now; `HandoverError` if unknown."""
        return self.store.get(handover_id)

    def take(self, handover_id: int, person: str = "") -> QueuedHandover:
        """A person takes a handover: the bot falls silent there (except for STOP)."""
        return self.store.take(handover_id, person)

    def release(self, conversation_id: str) -> None:
        """A person hands the conversation back; the bot discloses itself again."""
        self.store.release(conversation_id)

    def flag_wrong_answer(self, conversation_id: str, text: str | None = None) -> ReviewMessage | None:
        """A person marks the bot's latest answer there (or the one to `text`) as wrong, for `botkit review`."""
        return flag_wrong_answer(self.store.engine, conversation_id, text)


def open_desk(knowledge_path: Path, settings: Settings, clock: Callable[[], float] = time.time) -> Desk:
    """The desk on the database `settings` name for the knowledge base at `knowledge_path` (as `open_bot` opens it)."""
    from botkit.wiring import open_engine  # wiring builds bots, and a Bot is a Desk

    return Desk(ConversationStore(open_engine(knowledge_path, settings), clock))
