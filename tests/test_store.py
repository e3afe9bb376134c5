"""The conversation store through a real bot, on a SQLite file and on PostgreSQL."""

from __future__ import annotations

import shutil

from botkit import Settings, open_bot
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
        bot.person_says(asked.handover.id, "Hallo, hier ist Anna.")
    finally:
        bot.close()
    reopened = open_bot(SAMPLE, settings, embedder=embedder, clock=clock)
    try:
        transcript = reopened.store.transcript("whatsapp:4915100000001")
        assert [t["role"] for t in transcript][:2] == ["user", "bot"] and "Zählerstand" in transcript[0]["text"]
        state = reopened.store.load("whatsapp:4915100000001", "4915100000001", "whatsapp")
        assert not state.needs_disclosure and state.with_human and state.waiting_since is None
        assert [q.conversation_id for q in reopened.queue("with_person")] == ["whatsapp:4915100000001"]
        assert reopened.store.transcript("whatsapp:4915100000001")[-1] == {"role": "person", "text": "Hallo, hier ist Anna."}
    finally:
        reopened.close()
