"""ASGI entry points: the webhook app of a knowledge base, or of a folder `botkit export` wrote."""

from __future__ import annotations

import json
import os
from pathlib import Path

from fastapi import FastAPI

from botkit.desk import open_desk
from botkit.errors import ConfigError
from botkit.retention import RetentionPolicy
from botkit.webhook.app import create_app
from botkit.webhook.settings import load_settings
from botkit.wiring import open_bot

MANIFEST = "botkit-export.json"
KNOWLEDGE_ENV = "BOTKIT_SERVE_KNOWLEDGE"  # set by `botkit serve --web N` for its uvicorn processes


def app_for_knowledge(knowledge: Path, env_file: Path | None = Path(".env"), defaults: dict[str, str] | None = None) -> FastAPI:
    """Open the bot of `knowledge` with settings from the environment and `env_file`, and wrap it.

    With `BOTKIT_WEB_REPLIES=0` only the bot's database is opened (`Desk`): no embedder, no index.

    Args:
        defaults: `BOTKIT_*` values used when neither the environment nor the file sets them.
    """
    settings, webhook = load_settings(env_file, defaults)
    webhook.platforms()  # fail on missing secrets before loading the embedder
    retention = RetentionPolicy.parse(settings.retention_days)
    bot = open_bot(knowledge, settings) if webhook.web_replies else open_desk(knowledge, settings)
    return create_app(bot, webhook, retention=retention)


def app_from_env() -> FastAPI:
    """Factory for the uvicorn processes of `botkit serve --web N`: the knowledge path comes from the environment."""
    knowledge = os.environ.get(KNOWLEDGE_ENV)
    if not knowledge:
        raise ConfigError(f"{KNOWLEDGE_ENV} is not set; start the server with `botkit serve KNOWLEDGE`")
    return app_for_knowledge(Path(knowledge), None)  # `botkit serve` loaded the .env into the environment


def app_from_export(folder: Path) -> FastAPI:
    """The webhook app of an exported bot; the export's own settings are defaults under the environment.

    The index and calibration shipped in `folder` are used unless `BOTKIT_INDEX_DIR`,
    `BOTKIT_CHROMA_URL` or `BOTKIT_CALIBRATION` say otherwise; the database defaults to
    `data/botkit.db` (set `BOTKIT_DATABASE_URL` for a database server).
    """
    manifest_path = folder / MANIFEST
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{manifest_path} is missing or damaged; export the bot again with `botkit export`") from exc
    defaults = {key: str(folder / value) if key in _PATHS else str(value) for key, value in manifest["settings"].items()}
    return app_for_knowledge(folder / manifest["knowledge"], folder / ".env", defaults)


_PATHS = frozenset({"BOTKIT_INDEX_DIR", "BOTKIT_CALIBRATION"})
