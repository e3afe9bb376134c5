"""`Settings.index_answers`: answers are embedded too, so a message worded like an answer finds its entry."""

from __future__ import annotations

import pytest

from botkit import Settings, open_bot
from botkit.providers.memory import MemoryStore
from botkit.types import Decision, Reply

# Entries whose answers share few words with their questions (hashed 3-grams of FakeEmbedder).
ENTRIES = ("kundenportal-registrieren", "datenschutz-daten")


def replies(kb, tmp_path, embedder, index_answers: bool) -> dict[str, Reply]:
    settings = Settings(database_url=f"sqlite:///{tmp_path / f'botkit-{index_answers}.db'}", index_answers=index_answers)
    with open_bot(kb, settings, embedder=embedder, vector_store=MemoryStore()) as bot:
        answers = {e.id: e.answer for e in bot.knowledge.entries}
        return {entry: bot.reply(f"c-{entry}", answers[entry]) for entry in ENTRIES}


def test_a_message_worded_like_an_answer_finds_its_entry_only_with_answers_indexed(kb_copy, tmp_path, fake_embedder):
    without = replies(kb_copy, tmp_path, fake_embedder, index_answers=False)
    with_answers = replies(kb_copy, tmp_path, fake_embedder, index_answers=True)
    for entry in ENTRIES:
        on, off = with_answers[entry], without[entry]
        assert (on.decision, on.entries) == (Decision.ANSWERED, (entry,))
        assert on.confidence > off.confidence + 0.2, (entry, on.confidence, off.confidence)


@pytest.mark.parametrize("raw, expected", [("true", True), ("1", True), ("no", False)])
def test_the_setting_is_read_from_the_environment(raw, expected):
    assert Settings.from_env({"BOTKIT_INDEX_ANSWERS": raw}).index_answers is expected
