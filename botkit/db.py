"""One SQLAlchemy engine and schema for everything botkit stores about people.

Every table that holds data about a person has a `user_id` column, so export and erasure
(GDPR Art. 15 and 17, `botkit.privacy`) find all of it from the schema.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from sqlalchemy import (
    Column,
    Engine,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    inspect,
)

metadata = MetaData()

conversations = Table(
    "conversations",
    metadata,
    Column("id", String, primary_key=True),
    Column("user_id", String, nullable=False, index=True),
    Column("channel", String, nullable=False),
    Column("with_human", Integer, nullable=False, default=0),
    Column("misses", Integer, nullable=False, default=0),
    Column("needs_disclosure", Integer, nullable=False, default=1),
    Column("lang", String),
    Column("last_entry", String),  # entry of the last answer, to notice loops
    Column("pending", Text),  # JSON list of entry ids offered in a clarification
    Column("last_user_at", Float),
    Column("waiting_since", Float),  # a handover waits for a person since then (the bot still answers)
    Column("created_at", Float, nullable=False),
)

turns = Table(
    "turns",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("conversation_id", String, nullable=False, index=True),
    Column("user_id", String, nullable=False, index=True),
    Column("role", String, nullable=False),  # user | bot | person
    Column("text", Text, nullable=False),
    Column("decision", String),
    Column("reason", String),
    Column("entries", Text),  # JSON list of cited entry ids
    Column("confidence", Float),
    Column("message_id", String),  # the platform's id of a user message: a redelivery replays the stored reply
    Column("messages", Text),  # JSON: the bot turn's rendered messages, re-sent as they were on a replay
    Column("at", Float, nullable=False),
    Column("flag", String),  # on a user message: "wrong_answer" when a person marked the bot's answer to it wrong
    Column("review", String),  # what `botkit review` made of a user message: paraphrase:<id> | new:<id> | out-of-scope
    Index("ix_turns_message", "conversation_id", "message_id"),
)

handovers = Table(
    "handovers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("conversation_id", String, nullable=False, index=True),
    Column("user_id", String, nullable=False, index=True),
    Column("channel", String, nullable=False),
    Column("reason", String, nullable=False),
    Column("details", Text, nullable=False),  # JSON
    Column("transcript", Text, nullable=False),  # JSON
    Column("status", String, nullable=False, default="waiting"),  # waiting | with_person | released
    Column("created_at", Float, nullable=False),
    Column("taken_at", Float),
    Column("taken_by", String),
    Column("timed_out_at", Float),  # the user was told that nobody came (the request stays queued)
    Column("released_at", Float),
)

consent_events = Table(
    "consent_events",
    metadata,
    # Append-only: a consent's current state is its latest event (botkit.consent.ledger).
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", String, nullable=False, index=True),
    Column("channel", String, nullable=False),
    Column("topic", String, nullable=False, index=True),
    Column("state", String, nullable=False),  # pending | granted | withdrawn
    Column("version", String, nullable=False),  # wording version of the topic shown
    Column("wording", Text),  # the exact text shown to the user
    Column("method", String, nullable=False),  # chat | import | operator
    Column("message_id", String),  # the user's message that caused the event
    Column("ref", Integer),  # the event this one answers (a grant confirms a pending request)
    Column("evidence", Text),  # what the user wrote, or the proof of an imported consent
    Column("lang", String),
    Column("at", Float, nullable=False),
    # The current state of a consent is the latest event of its (user, channel, topic).
    Index("ix_consent_events_key", "user_id", "channel", "topic", "id"),
)

campaign_deliveries = Table(
    "campaign_deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("campaign", String, nullable=False, index=True),  # campaign id, or "chat:<entry>" for in-chat offers
    Column("topic", String, nullable=False),
    Column("user_id", String, nullable=False, index=True),
    Column("channel", String, nullable=False),
    Column("status", String, nullable=False),  # delivered | failed
    Column("text", Text, nullable=False),
    Column("objection_notice", Integer, nullable=False, default=0),  # carried the Art. 21(4) notice
    Column("detail", Text),  # template used, or why sending failed
    Column("at", Float, nullable=False),
)

erasures = Table(
    "erasures",
    metadata,
    # Deliberately without any identifier of the person (not even a hash): see ConsentLedger.erase.
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("removed", Text, nullable=False),  # JSON: rows removed per table
    Column("at", Float, nullable=False),
)

erased_messages = Table(
    "erased_messages",
    metadata,
    # Tombstones of erased webhook events, so a platform's late redelivery is dropped instead of
    # answered: a keyed hash of the event key (platform + message id), never the user id or text.
    Column("key_hash", String, primary_key=True),
    Column("at", Float, nullable=False),
)


def erased_key_hash(key: str) -> str:
    """The tombstone of a webhook event key; the message id cannot be read back from it."""
    return hmac.new(b"botkit erased webhook event", key.encode("utf-8"), hashlib.sha256).hexdigest()


webhook_inbox = Table(
    "webhook_inbox",
    metadata,
    # Every webhook event the bot must act on, saved before the platform gets its 200;
    # the unique `key` (platform + message id) makes redeliveries no-ops, also after a restart.
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String, nullable=False, unique=True),
    Column("platform", String, nullable=False),
    Column("kind", String, nullable=False),
    Column("user_id", String, nullable=False, index=True),
    Column("conversation_id", String, nullable=False, index=True),
    Column("text", Text, nullable=False),
    Column("payload", Text, nullable=False),
    Column("reply_to", String, nullable=False),
    Column("account", String, nullable=False),
    Column("details", Text, nullable=False),  # JSON
    Column("status", String, nullable=False, index=True),  # pending | done | failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("lease_owner", String),  # the worker processing it, until lease_until
    Column("lease_until", Float),
    Column("error", Text),
    Column("received_at", Float, nullable=False),
    Column("done_at", Float),
)

webhook_outbox = Table(
    "webhook_outbox",
    metadata,
    # Send-API calls of one processed inbox event, in order (`seq`); sent at least once.
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("inbox_id", Integer, nullable=False, index=True),
    Column("seq", Integer, nullable=False),
    Column("platform", String, nullable=False),
    Column("user_id", String, nullable=False, index=True),
    Column("conversation_id", String, nullable=False),
    Column("path", String, nullable=False),  # below the API base, never with a token
    Column("body", Text, nullable=False),  # JSON
    Column("status", String, nullable=False, index=True),  # pending | sent | failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_at", Float, nullable=False),
    Column("lease_owner", String),
    Column("lease_until", Float),
    Column("error", Text),
    Column("created_at", Float, nullable=False),
    Column("sent_at", Float),
)

campaign_jobs = Table(
    "campaign_jobs",
    metadata,
    # A campaign sent through the platforms' send APIs as a resumable job (botkit.campaigns).
    Column("id", String, primary_key=True),
    Column("topic", String, nullable=False),
    Column("message", Text, nullable=False),  # JSON: the text per language ("" = any language)
    Column("template", String),  # approved WhatsApp template for users outside the 24-hour window
    Column("created_at", Float, nullable=False),
)

campaign_recipients = Table(
    "campaign_recipients",
    metadata,
    # One row per consented (user, channel) of a campaign job; the unique key keeps each user
    # to one send per campaign: pending -> claimed -> sending -> sent | skipped | failed.
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("campaign", String, nullable=False),
    Column("user_id", String, nullable=False, index=True),
    Column("channel", String, nullable=False),
    Column("lang", String),  # the language the consent was given in
    Column("status", String, nullable=False),
    Column("why", String),  # skipped or failed: no_consent | withdrawn | outside_window | unreachable | no_sender | rejected | in_doubt
    Column("detail", Text),
    Column("attempts", Integer, nullable=False, default=0),  # rounds put back after rate limits
    Column("next_at", Float, nullable=False, default=0.0),
    Column("lease_owner", String),
    Column("lease_until", Float),
    Column("done_at", Float),
    UniqueConstraint("campaign", "user_id", "channel", name="uq_campaign_recipient"),
    Index("ix_campaign_recipients_work", "campaign", "channel", "status", "next_at"),
)

campaign_pacing = Table(
    "campaign_pacing",
    metadata,
    # One row per business sender (WhatsApp phone number, Facebook Page, Telegram bot): the time of
    # its next free send slot, shared by every process that sends campaigns from it (botkit.campaigns.pacing).
    Column("business_sender", String, primary_key=True),  # platform:sender key, never a person
    Column("next_at", Float, nullable=False),
)


def open_database(url: str) -> Engine:
    """Create an engine for `url` and any missing tables; SQLite gets WAL and a busy timeout."""
    is_sqlite = url.startswith("sqlite")
    engine = create_engine(url, connect_args={"timeout": 30} if is_sqlite else {})
    if is_sqlite:
        event.listen(engine, "connect", _sqlite_pragmas)
    metadata.create_all(engine)
    _add_missing_columns(engine)
    return engine


def _add_missing_columns(engine: Engine) -> None:
    """Add columns that newer botkit versions define to tables an older version created.

    Only nullable columns are ever added, so existing rows stay valid; nothing is dropped.
    """
    existing = inspect(engine)
    with engine.begin() as conn:
        for table in metadata.sorted_tables:
            if not existing.has_table(table.name):
                continue
            present = {c["name"] for c in existing.get_columns(table.name)}
            for column in table.columns:
                if column.name not in present and column.nullable:
                    kind = column.type.compile(dialect=engine.dialect)
                    conn.exec_driver_sql(f'ALTER TABLE {table.name} ADD COLUMN "{column.name}" {kind}')


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers and one writer work at once; busy_timeout makes concurrent writers
    # from several processes wait for each other instead of failing.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
