"""`LanguageDetector`: which of the knowledge base's languages a message is in (py3langid's real model)."""

from __future__ import annotations

import shutil

import pytest

from botkit import Settings, language, open_bot
from botkit.language import LanguageDetector
from botkit.providers.memory import MemoryStore
from tests.conftest import SAMPLE

GERMAN = "Wie melde ich meinen Zählerstand?"
ENGLISH = "How do I submit my meter reading?"


@pytest.mark.parametrize("text, expected", [(GERMAN, "de"), (ENGLISH, "en"), ("Ich möchte meinen Vertrag kündigen", "de")])
def test_a_clear_sentence_is_detected_among_the_knowledge_bases_languages(text, expected):
    assert LanguageDetector(("de", "en")).detect(text, "xx") == expected


@pytest.mark.parametrize("text", ["Hallo", "Zählerstand", "ok ok", "1234 5678", ""])
def test_one_word_and_unclear_messages_keep_the_fallback(text):
    assert LanguageDetector(("de", "en")).detect(text, "xx") == "xx"


def test_a_single_language_knowledge_base_never_switches():
    assert LanguageDetector(("de",)).detect(ENGLISH, "de") == "de"


@pytest.mark.parametrize(
    "languages, text, expected",
    [
        (("de", "en-GB"), ENGLISH, "en-GB"),  # a region variant is detected by its base language
        (("de", "en-GB"), GERMAN, "de"),
        (("de", "de-CH", "en"), GERMAN, "de"),  # several variants: the plain code stands for them
        (("de-AT", "de-CH", "en"), GERMAN, "xx"),  # several variants, no plain code: which one is unknowable
        (("de", "en", "tlh"), ENGLISH, "en"),  # a code the identifier does not know is left out
        (("de", "tlh"), ENGLISH, "xx"),
    ],
)
def test_region_variants_and_unknown_codes_do_not_break_detection(languages, text, expected):
    assert LanguageDetector(languages).detect(text, "xx") == expected


def test_a_knowledge_base_with_a_region_code_answers_in_that_language(tmp_path, fake_embedder):
    # Knowledge validation accepts `en-GB`; the bot used to fail at start with py3langid's "Unknown language code".
    kb = tmp_path / "knowledge"
    shutil.copytree(SAMPLE, kb, ignore=shutil.ignore_patterns(".botkit*"))
    csv = kb / "english-faq.csv"
    csv.write_text(csv.read_text(encoding="utf-8-sig").replace(";en;", ";en-GB;"), encoding="utf-8")
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'botkit.db'}")
    with open_bot(kb, settings, embedder=fake_embedder, vector_store=MemoryStore()) as bot:
        assert bot.knowledge.languages == ("de", "en-GB")
        reply = bot.reply("c1", ENGLISH)
    assert reply.entries == ("en-meter-reading",)
    assert reply.messages[-1].text.startswith("You can submit your meter reading")


def test_the_model_is_loaded_at_the_first_message_that_needs_it_not_when_a_bot_opens(monkeypatch):
    loads: list[tuple[str, ...]] = []
    real = language._identifier
    monkeypatch.setattr(language, "_identifier", lambda bases: loads.append(bases) or real(bases))
    detector = LanguageDetector(("de", "en"))
    assert loads == []
    assert detector.detect("Hallo", "de") == "de" and loads == []  # one word: no model needed
    assert detector.detect(ENGLISH, "de") == "en" and loads == [("de", "en")]
