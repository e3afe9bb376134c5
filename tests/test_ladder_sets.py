"""The ladder's test sets through the whole bot (not only the matcher): small talk is never handed
over, "are you human?" and role-play always get the truthful disclosure, requests for a person are
handed over and never answered from an FAQ entry, and a greeting with a question answers the question."""

from __future__ import annotations

from pathlib import Path

import pytest

from botkit import Decision
from botkit.policy.disclosure import says_it_is_a_bot

SETS = Path(__file__).parent / "data" / "intents"


def lines(name: str) -> list[str]:
    return [line for line in (SETS / name).read_text(encoding="utf-8").splitlines() if line.strip() and not line.startswith("#")]


@pytest.fixture
def first_replies(bot):
    """Each message as the first message of a new conversation, on several channels."""
    channels = ("whatsapp", "telegram", "messenger", "web")

    def play(messages: list[str]):
        return [(text, bot.reply(f"c{i}", text, channels[i % len(channels)])) for i, text in enumerate(messages)]

    return play


def test_small_talk_is_never_handed_over(first_replies):
    played = first_replies(lines("smalltalk.txt"))
    handed = [text for text, reply in played if reply.decision in (Decision.HANDOVER, Decision.CLARIFY)]
    assert len(played) >= 150 and handed == []
    assert all(reply.messages for _, reply in played), "always a friendly reply"


def test_are_you_human_and_role_play_get_the_disclosure(first_replies):
    played = first_replies(lines("bot_question.txt"))
    wrong = [text for text, reply in played if reply.reason != "bot_question" or not says_it_is_a_bot(reply.messages[-1].text)]
    assert len(played) >= 60 and wrong == []


def test_requests_for_a_person_are_handed_over_not_answered(first_replies):
    played = first_replies(lines("person_request.txt"))
    recognised = [reply.reason == "user_request" for _, reply in played]
    answered = [text for text, reply in played if reply.decision == Decision.ANSWERED and reply.entries]
    rate = sum(recognised) / len(played)
    print(f"person requests: {rate:.3f} of {len(played)}; answered from an entry: {answered}")
    assert len(played) >= 60 and rate >= 0.95
    assert len(answered) <= len(played) - sum(recognised)


def test_a_greeting_with_a_question_answers_the_question(bot):
    reply = bot.reply("c1", "Guten Morgen Lina 👋 kurze Frage: wie melde ich meinen Zählerstand?", "whatsapp")
    assert reply.decision == Decision.ANSWERED and reply.entries == ("zaehlerstand-melden",)
