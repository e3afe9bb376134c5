"""One SQLAlchemy engine and schema for everything botkit stores about people.

Every table that holds data about a person has a `user_id` column, so export and erasure
(GDPR Art. 15 and 17) can find all of it by looking at `USER_TABLES`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Column,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
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
    Column("created_at", Float, nullable=False),
)

turns = Table(
    "turns",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("conversation_id", String, nullable=False, index=True),
    Column("user_id", String, nullable=False, index=True),
    Column("role", String, nullable=False),  # user | bot | human
    Column("text", Text, nullable=False),
    Column("decision", String),
    Column("entries", Text),  # JSON list of cited entry ids
    Column("confidence", Float),
    Column("at", Float, nullable=False),
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
    Column("status", String, nullable=False, default="open"),  # open | released
    Column("created_at", Float, nullable=False),
    Column("released_at", Float),
)

USER_TABLES: list[Table] = [conversations, turns, handovers]
"""Tables holding personal data; modules that add such tables append them here."""


def open_database(url: str) -> Engine:
    """Create an engine for `url` and any missing tables; SQLite gets WAL and a busy timeout."""
    is_sqlite = url.startswith("sqlite")
    engine = create_engine(url, connect_args={"timeout": 30} if is_sqlite else {})
    if is_sqlite:
        event.listen(engine, "connect", _sqlite_pragmas)
    metadata.create_all(engine)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers and one writer work at once; busy_timeout makes concurrent writers
    # from several processes wait for each other instead of failing.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
