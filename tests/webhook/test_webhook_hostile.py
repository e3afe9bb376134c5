"""Signed bodies with text no database stores, or numbers Python will not read: 4xx or 200, never 5xx.

Runs on SQLite and on PostgreSQL (which refuses NUL in text), over real HTTP.
"""

from __future__ import annotations

import itertools
import json
import shutil
import time
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from botkit import Settings, open_bot
from botkit.db import webhook_inbox
from botkit.webhook import create_app, sign
from tests.conftest import SAMPLE, new_postgres_database
from tests.webhook.conftest import webhook_settings
from tests.webhook.support import (
    MESSENGER_SECRET,
    TELEGRAM_SECRET,
    WHATSAPP_SECRET,
    ServerThread,
    is_message,
    messenger_body,
    recipient,
    telegram_body,
    whatsapp_body,
)

HUGE = "__huge_integer__"
SEEDS = [("messenger", messenger_body("u1", "m1", "Hallo")), ("whatsapp", whatsapp_body("491", "w1", "Hallo")), ("telegram", telegram_body(1, 2, "Hallo"))]
SECRETS = {"messenger": MESSENGER_SECRET, "whatsapp": WHATSAPP_SECRET}
STATUSES: dict[str, Counter[int]] = {}
_IDS = itertools.count()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def hostile_server(request, tmp_path_factory, sample_index_dir, embedder, send_api) -> Iterator[ServerThread]:
    folder = tmp_path_factory.mktemp("hostile")
    shutil.copytree(sample_index_dir, folder / "index")
    if request.param == "sqlite":
        url = f"sqlite:///{folder / 'botkit.db'}"
    else:
        url = new_postgres_database(request.getfixturevalue("postgres_server"), "hostile")
    bot = open_bot(SAMPLE, Settings(index_dir=folder / "index", database_url=url), embedder=embedder)
    server = ServerThread(create_app(bot, webhook_settings(send_api.url))).start()
    server.bot = bot  # type: ignore[attr-defined]
    server.database = request.param  # type: ignore[attr-defined]
    yield server
    server.stop()
    bot.close()


def post(server: ServerThread, platform: str, body: bytes) -> httpx.Response:
    if platform == "telegram":
        headers = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
    else:
        headers = {"X-Hub-Signature-256": sign(body, SECRETS[platform])}
    return httpx.post(f"{server.url}/webhook/{platform}", content=body, headers={**headers, "Content-Type": "application/json"}, timeout=30)


unstorable = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0xDFFF), max_size=12) | st.sampled_from(
    ["\ud800", "a\x00b", "\udfff\ud800", "\x00", "x\udbff"]
)
hostile = unstorable | st.just(HUGE) | st.integers(-(2**70), 2**70) | st.none() | st.lists(unstorable, max_size=3)


@st.composite
def structured(draw) -> tuple[str, bytes]:
    """A real body with one to three values (or keys) replaced by hostile ones; sent as JSON escapes."""
    platform, body = draw(st.sampled_from(SEEDS))
    data = json.loads(body)
    for _ in range(draw(st.integers(1, 3))):
        paths = list(_paths(data))
        if not paths:
            break
        *parents, last = draw(st.sampled_from(paths))
        target = data
        for key in parents:
            target = target[key]
        if isinstance(target, dict) and draw(st.booleans()):
            target[draw(unstorable)] = target.pop(last)  # a hostile key
        else:
            target[last] = draw(hostile)
    # json.dumps writes lone surrogates and NUL as \ud800 and \u0000 escapes, as a sender would
    raw = json.dumps(data).replace(f'"{HUGE}"', "9" * 4_400)
    return platform, raw.encode()


def _paths(value, prefix=()):
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in items:
        yield (*prefix, key)
        yield from _paths(child, (*prefix, key))


# Examples per the hypothesis profile: 50 in the default run, 1,000 in .ci/run's thorough run.
@settings(deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(sample=structured())
def test_signed_structured_mutations_never_get_a_server_error(hostile_server, sample):
    platform, body = sample
    response = post(hostile_server, platform, body)
    STATUSES.setdefault(hostile_server.database, Counter())[response.status_code] += 1  # type: ignore[attr-defined]
    assert response.status_code in (200, 400), (body[:300], response.status_code, response.text)


def test_the_mutations_were_sent_and_the_server_still_answers_a_real_message(hostile_server, recorder):
    database = hostile_server.database  # type: ignore[attr-defined]
    counts = STATUSES.get(database, Counter())
    print(f"{database}: {sum(counts.values())} signed mutations, statuses {dict(counts)}")
    assert sum(counts.values()) >= settings().max_examples and not [s for s in counts if s >= 500]
    # /healthz says ok while the process and its database are up; an answer shows the worker survived too
    user = f"4917{database[:2]}99999"
    response = post(hostile_server, "whatsapp", whatsapp_body(user, f"wamid.after.{database}", "Wie melde ich meinen Zählerstand?"))
    assert response.json() == {"accepted": 1, "duplicates": 0, "ignored": 0}
    deadline = time.monotonic() + 60
    while not recorder.delivered(lambda r: is_message(r) and recipient(r) == user):
        assert time.monotonic() < deadline, "no answer within 60 s"
        time.sleep(0.05)


def test_a_lone_surrogate_or_nul_does_not_fail_the_other_messages_of_its_batch(hostile_server, recorder):
    users = [f"4917{hostile_server.database[:2]}{i:05d}" for i in range(21)]  # type: ignore[attr-defined]
    messages = [
        {
            "from": u,
            "id": f"wamid.batch.{hostile_server.database}.{i}",
            "timestamp": "1780000000",
            "type": "text",  # type: ignore[attr-defined]
            "text": {"body": "Wie melde ich meinen Zählerstand?"},
        }
        for i, u in enumerate(users)
    ]
    messages[0]["text"]["body"] = "Hallo \ud800 und \x00 Zählerstand"
    value = {"messaging_product": "whatsapp", "metadata": {"display_phone_number": "1555", "phone_number_id": "PNID1"}, "messages": messages}
    body = json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "W", "changes": [{"value": value, "field": "messages"}]}]})
    assert "\\ud800" in body and "\\u0000" in body
    response = post(hostile_server, "whatsapp", body.encode())
    assert response.status_code == 200 and response.json()["accepted"] == 21
    deadline = time.monotonic() + 90
    # until every user is answered (a later message to the previous test's user may arrive meanwhile: not "<")
    while time.monotonic() < deadline and not set(users) <= {recipient(r) for r in recorder.delivered(is_message)}:
        time.sleep(0.05)
    assert {recipient(r) for r in recorder.delivered(is_message)} >= set(users)  # every user answered
    with hostile_server.bot.store.engine.connect() as conn:  # type: ignore[attr-defined]
        stored = conn.execute(select(webhook_inbox.c.text).where(webhook_inbox.c.user_id == users[0])).scalar_one()
    assert stored == "Hallo \ufffd und  Zählerstand"


@pytest.mark.parametrize("platform", ["messenger", "whatsapp", "telegram"])
def test_an_integer_of_more_than_4300_digits_gets_400(hostile_server, platform):
    seed = dict(SEEDS)[platform]
    body = seed.replace(b'"1780000000"', b"9" * 4_400, 1) if b'"1780000000"' in seed else seed.replace(b"1780000000", b"9" * 4_400, 1)
    assert b"9" * 4_400 in body
    response = post(hostile_server, platform, body)
    assert response.status_code == 400 and "number" in response.json()["detail"]
