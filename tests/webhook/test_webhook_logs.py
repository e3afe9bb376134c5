"""The log scrubber: no secrets or phone numbers in messages or tracebacks, and uvicorn's access log intact."""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from sqlalchemy import Column, MetaData, String, Table, create_engine, insert
from sqlalchemy.exc import IntegrityError
from uvicorn.logging import AccessFormatter

from botkit import open_bot
from botkit.webhook import create_app
from botkit.webhook.logs import guard_logs, log
from tests.conftest import SAMPLE
from tests.webhook.conftest import webhook_settings
from tests.webhook.support import VERIFY_TOKEN, ServerThread, free_port

PHONE = "4915112345678"
SECRET_TEXT = "Hallo, hier Anna Beispiel"


@pytest.fixture
def captured(recorder) -> Iterator[tuple[io.StringIO, io.StringIO]]:
    """What botkit's and uvicorn's access loggers write through real formatters, and logging's own errors.

    After `recorder`: starting its uvicorn (access log off) empties the access logger's handlers.
    """
    out, errors = io.StringIO(), io.StringIO()
    access = logging.StreamHandler(out)
    access.setFormatter(AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s', use_colors=False))
    plain = logging.StreamHandler(out)
    plain.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    for handler in (access, plain):
        handler.handleError = lambda record, stream=errors: stream.write(f"--- Logging error --- {record.msg}\n")  # type: ignore[method-assign]
    pairs = [(logging.getLogger("uvicorn.access"), access), (log, plain)]
    for logger, handler in pairs:
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    yield out, errors
    for logger, handler in pairs:
        logger.removeHandler(handler)


def test_scrubbing_a_verify_token_does_not_break_uvicorns_access_log(captured, recorder, settings, embedder, clock):
    out, errors = captured
    bot = open_bot(SAMPLE, settings, embedder=embedder, clock=clock)
    # ServerThread turns the access log off (and so empties its handlers); this test is about it
    server = ServerThread.__new__(ServerThread)
    server.port = free_port()
    server.url = f"http://127.0.0.1:{server.port}"
    config = uvicorn.Config(
        create_app(bot, webhook_settings(recorder.url)),
        host="127.0.0.1",
        port=server.port,  # type: ignore[attr-defined]
        log_config=None,
        lifespan="on",
        ws="none",
        access_log=True,
    )
    server.server = uvicorn.Server(config)
    server.thread = threading.Thread(target=server.server.run, daemon=True)
    server.start()
    try:
        url = f"{server.url}/webhook/whatsapp"
        assert httpx.get(url, params={"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "7"}).text == "7"
    finally:
        server.stop()
        bot.close()
    text = out.getvalue()
    assert errors.getvalue() == ""
    assert "GET /webhook/whatsapp?hub.mode=subscribe&hub.verify_token=***&hub.challenge=7 HTTP/1.1" in text and "200" in text
    assert VERIFY_TOKEN not in text


def test_tracebacks_with_sql_parameters_show_no_phone_number(captured, tmp_path):
    out, errors = captured
    guard_logs([])
    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    table = Table("people", MetaData(), Column("phone", String, primary_key=True), Column("text", String))
    table.metadata.create_all(engine)
    rows = [{"phone": PHONE, "text": SECRET_TEXT}] * 2
    try:
        with engine.begin() as conn:
            conn.execute(insert(table), rows)
    except IntegrityError:
        log.exception("delivering to %s failed", "…678")
        log.error("user %s wrote %s", int(PHONE), f"+{PHONE}")
    finally:
        engine.dispose()
    text = out.getvalue()
    assert "IntegrityError" in text and "Traceback" in text and "[parameters hidden]" in text
    assert PHONE not in text and "Anna Beispiel" not in text and "…678" in text
    assert errors.getvalue() == ""
