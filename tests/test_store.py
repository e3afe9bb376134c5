"""The conversation store through a real bot, on a SQLite file and on PostgreSQL."""

from __future__ import annotations

import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from botkit import Settings, open_bot
from botkit.db import open_database
from botkit.store import ConversationState, ConversationStore
from tests.conftest import SAMPLE


def test_conversation_state_transcript_and_handover_queue_survive_a_reopen(database_url, sample_index_dir, tmp_path, embedder, clock):
    index = tmp_path / "index"
    shutil.copytree(sample_index_dir, index)
    settings = Settings(index_dir=index, database_url=database_url)
    bot = open_bot(SAMPLE, settings, embedder=embedder, clock=clock)
    try:
        first = bot.reply("whatsapp:4915100000001", "Wie melde ich meinen Zählerstand?", "whatsapp", user_id="4915100000001")
        assert first.messages
        asked = bot.reply("whatsapp:4915100000001", "Ich möchte mit einem Mitarbeiter sprechen", "whatsapp", user_id="4915100000001")
        bot.take(asked.handover.id, "Anna")
        bot.person_says(asked.handover.id, "Hallo, hier ist Anna.", message_id="person.1")
        bot.person_says(asked.handover.id, "Hallo, hier ist Anna.", message_id="person.1")  # its event handled again after a crash
    finally:
        bot.close()
    reopened = open_bot(SAMPLE, settings, embedder=embedder, clock=clock)
    try:
        transcript = reopened.store.transcript("whatsapp:4915100000001")
        assert [t["role"] for t in transcript][:2] == ["user", "bot"] and "Zählerstand" in transcript[0]["text"]
        state = reopened.store.load("whatsapp:4915100000001", "4915100000001", "whatsapp")
        assert not state.needs_disclosure and state.with_human and state.waiting_since is None
        assert [q.conversation_id for q in reopened.queue("with_person")] == ["whatsapp:4915100000001"]
        assert reopened.store.transcript("whatsapp:4915100000001")[-2:] != ({"role": "person", "text": "Hallo, hier ist Anna."},) * 2  # recorded once
        assert reopened.store.transcript("whatsapp:4915100000001")[-1] == {"role": "person", "text": "Hallo, hier ist Anna."}
    finally:
        reopened.close()


def test_a_message_handled_twice_at_once_is_saved_once(database_url):
    # Two handlings of one event (a worker that outlived its lease, and the one that took the
    # event over) save the same message at the same moment, each through its own engine.
    engines = [open_database(database_url) for _ in range(2)]
    stores = [ConversationStore(engine, time.time) for engine in engines]
    conversations = [f"whatsapp:49151{n:04d}" for n in range(20)]
    bot_turn = {"text": "Hallo!", "decision": "answered", "reason": "confident", "entries": "[]", "confidence": 0.9}
    try:
        for conversation in conversations:  # new and existing conversations alike
            start = threading.Barrier(2)

            def save(store: ConversationStore, conversation: str = conversation, start: threading.Barrier = start) -> None:
                state = ConversationState(conversation, conversation.split(":")[1], "whatsapp")
                start.wait()
                store.save(state, "Wie melde ich meinen Zählerstand?", bot_turn, message_id=f"wamid.{conversation}")

            with ThreadPoolExecutor(2) as pool:
                list(pool.map(save, stores))
            assert [t["role"] for t in stores[0].transcript(conversation)] == ["user", "bot"], conversation
        stores[1].save(ConversationState(conversations[0], "x", "whatsapp"), "again", bot_turn, message_id=f"wamid.{conversations[0]}")
        assert len(stores[0].transcript(conversations[0])) == 2  # a later duplicate writes nothing either
    finally:
        for engine in engines:
            engine.dispose()
