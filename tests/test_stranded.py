"""A day of 500 conversations on a test clock: nobody is ever left without a reply or a person.

People take some handovers and not others, the bot restarts in between, and a sweep tells
waiting users when nobody came. A user message is stranded when it got no message back while
no person had the conversation.
"""

from __future__ import annotations

import random

from botkit import Decision, open_bot
from tests.conftest import SAMPLE

CONVERSATIONS = 500
DAY = 24 * 3600
SMALL_TALK = ["Hallo 👋", "/start", "Danke!", "ok", "👍", "?", "Tschüss", "Guten Morgen"]
OFF_TOPIC = ["Wie wird das Wetter morgen?", "Könnt ihr mir ein Rezept für Apfelkuchen geben?", "Wer gewinnt die Bundesliga?"]
PERSON = ["Ich möchte mit einem Mitarbeiter sprechen", "Bitte einen Menschen", "I want to talk to a human"]


def test_a_day_of_conversations_strands_nobody(settings, embedder, clock):
    rng = random.Random(20261130)
    bot = open_bot(SAMPLE, settings, embedder=embedder, clock=clock)
    questions = [p for e in bot.knowledge.entries for p in e.phrasings]
    pool = questions + SMALL_TALK * 4 + OFF_TOPIC * 8 + PERSON * 6
    # (time, conversation, message) for every user message of the day, in time order
    events = []
    for n in range(CONVERSATIONS):
        start = rng.uniform(0, DAY - 3600)
        for k in range(rng.randint(1, 5)):
            events.append((start + k * rng.uniform(20, 1200), f"user-{n}", rng.choice(pool)))
    events.sort()
    begin = clock.now
    stranded, replies, handovers, told, taken = [], 0, 0, 0, 0
    next_round = begin + 600
    for i, (at, cid, text) in enumerate(events):
        while begin + at >= next_round:  # people and the sweep act every 10 minutes
            clock.now = next_round
            taken += _people_act(bot, rng)
            for item in bot.overdue():
                told += bool(bot.nobody_came(item.id).messages)
            next_round += 600
        clock.now = begin + at
        if i and i % 400 == 0:  # a restart: a new process on the same database
            bot.close()
            bot = open_bot(SAMPLE, settings, embedder=embedder, clock=clock)
        reply = bot.reply(cid, text, rng.choice(["whatsapp", "telegram", "messenger", "web"]))
        replies += 1
        handovers += reply.handover is not None
        with_person = bot.store.load(cid, cid, "web").with_human
        if not reply.messages and not with_person:
            stranded.append((cid, text, reply.decision.value))
        assert reply.messages or reply.decision == Decision.SILENT
    bot.close()
    print(f"{replies} messages, {handovers} handovers, {taken} taken, {told} told nobody came, {len(stranded)} stranded")
    assert handovers > 50 and taken > 10 and told > 10, "the day exercised every path"
    assert stranded == []


def _people_act(bot, rng: random.Random) -> int:
    """The team takes about half of the waiting requests, and hands back the ones they had."""
    for item in bot.queue("with_person"):
        bot.person_says(item.id, "Erledigt, ich gebe Sie an den Bot zurück.")
        bot.release(item.conversation_id)
    taken = 0
    for item in bot.queue("waiting"):
        if rng.random() < 0.5:
            bot.take(item.id, "team")
            bot.person_says(item.id, "Hallo, hier ist das Team. Wie kann ich helfen?")
            taken += 1
    return taken
