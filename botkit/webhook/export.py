"""`botkit export`: a self-contained, deployable folder with the built index and an ASGI entry point."""

from __future__ import annotations

import json
import shutil
from dataclasses import fields
from importlib.metadata import version
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from botkit.calibration import read_calibration
from botkit.channels import get_profile
from botkit.config import Settings
from botkit.db import open_database
from botkit.errors import ConfigError
from botkit.index import ProgressFn
from botkit.knowledge import client_file, knowledge_files
from botkit.policy.intents import IntentMatcher
from botkit.protocols import Embedder
from botkit.webhook.container import write_container_files
from botkit.webhook.entry import MANIFEST
from botkit.webhook.lock import botkit_wheel, pinned_requirements
from botkit.wiring import build, data_dir, embedder_for, matcher_embedder

LOCK = "requirements.lock"

ENV_VARS: tuple[tuple[str, str], ...] = (
    ("BOTKIT_MESSENGER_APP_SECRET", "Messenger: the Meta app secret; checks X-Hub-Signature-256 of every POST"),
    ("BOTKIT_MESSENGER_PAGE_TOKEN", "Messenger: the Page access token for the Send API"),
    ("BOTKIT_WHATSAPP_APP_SECRET", "WhatsApp: the Meta app secret; checks X-Hub-Signature-256 of every POST"),
    ("BOTKIT_WHATSAPP_TOKEN", "WhatsApp: the Cloud API access token"),
    ("BOTKIT_VERIFY_TOKEN", "Messenger and WhatsApp: the verify token you enter in the app dashboard (GET handshake)"),
    ("BOTKIT_TELEGRAM_BOT_TOKEN", "Telegram: the token from @BotFather"),
    ("BOTKIT_TELEGRAM_SECRET_TOKEN", "Telegram: the secret_token you pass to setWebhook (1-256 of A-Z a-z 0-9 _ -)"),
    ("BOTKIT_GRAPH_API_BASE", "optional: Graph API root (default https://graph.facebook.com/v21.0); point staging elsewhere"),
    ("BOTKIT_TELEGRAM_API_BASE", "optional: Bot API root (default https://api.telegram.org)"),
    ("BOTKIT_DATABASE_URL", "optional: a database server (postgresql+psycopg://...) instead of data/botkit.db"),
    ("BOTKIT_CHROMA_URL", "optional: a Chroma server (`chroma run`) holding the index, for many machines"),
    ("BOTKIT_MESSENGER_APP_ID", "optional: this app's id, so handover events are read exactly"),
    ("BOTKIT_MESSENGER_HANDOVER_APP_ID", "optional: the app people take over in (default: Meta's Page Inbox)"),
    ("BOTKIT_WHATSAPP_PHONE_NUMBER_ID", "optional: the sender number when an event names none"),
    ("POSTGRES_PASSWORD", "compose.yaml only: the password of its PostgreSQL database (a long string of letters and digits)"),
)

_APP_PY = '''"""ASGI entry point of an exported botkit bot.

Serve it from this folder:  uvicorn app:create --factory --host 0.0.0.0 --port 8080
"""

from pathlib import Path

from botkit.webhook.entry import app_from_export

HERE = Path(__file__).resolve().parent


def create():
    """The webhook app; settings come from the environment, then .env, then botkit-export.json."""
    return app_from_export(HERE)
'''


def export_bot(
    knowledge_path: str | Path,
    out: str | Path,
    settings: Settings | None = None,
    *,
    embedder: Embedder | None = None,
    progress: ProgressFn | None = None,
) -> Path:
    """Build the index of a knowledge base and write a deployable folder to `out`.

    The folder holds the knowledge files, the built index (unless it lives on a Chroma
    server), the calibration, a manifest with the bot's settings and channel limits, an
    ASGI entry point (`app.py`), an empty database, `.env.example`, the botkit wheel in `wheels/`,
    `requirements.lock` pinning every dependency as installed here, `requirements.txt`
    installing both (nothing from an index by botkit's name), a `Dockerfile` and `compose.yaml`
    (web and worker on PostgreSQL and a Chroma server; `botkit.webhook.container`) and a README
    with the environment variables and the commands that serve it.

    Raises:
        ConfigError: `out` exists and is not empty.
    """
    settings = settings or Settings()
    source = Path(knowledge_path)
    target = Path(out)
    if target.exists() and any(target.iterdir()):
        raise ConfigError(f"{target} exists and is not empty; choose a new folder for the export")
    embedder = embedder or embedder_for(settings)
    knowledge, _ = build(source, settings, embedder=embedder, progress=progress)
    target.mkdir(parents=True, exist_ok=True)
    (target / "data").mkdir()
    # The small-talk/STOP examples' vectors ship too (read at start by `botkit.embedcache.embed_once`).
    IntentMatcher(matcher_embedder(embedder, settings), bot_names=(knowledge.client.bot_name,), vectors_dir=target / "data")

    name = source.resolve().name  # kept: a Chroma server's collections are named after it
    copied = _copy_knowledge(source, target, name)
    if not settings.chroma_url:
        shutil.copytree(data_dir(source, settings) / "index", target / "data" / "index", ignore=shutil.ignore_patterns(".build.lock"))
    calibration = None
    if settings.calibration is not None:
        read_calibration(settings.calibration, embedder)  # refuse a damaged one now, not at deploy time
        shutil.copy2(settings.calibration, target / "data" / "calibration.json")
        calibration = "data/calibration.json"
    open_database(f"sqlite:///{target / 'data' / 'botkit.db'}").dispose()  # tables exist before workers race

    defaults = _settings_defaults(settings, calibration)
    manifest = {
        "botkit": version("botkit"),
        "knowledge": name,
        "entries": len(knowledge.entries),
        "client": knowledge.client.name,
        "consent_topics": {t.id: t.version for t in knowledge.client.topics},
        "channels": {c: _limits(c) for c in ("messenger", "whatsapp", "telegram")},
        "settings": defaults,
        "files": copied,
    }
    (target / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (target / "app.py").write_text(_APP_PY, encoding="utf-8")
    _write_requirements(target, ("server", "llm") if settings.llm_enabled else ("server",))
    (target / ".env.example").write_text("".join(f"# {help_}\n{var}=\n" for var, help_ in ENV_VARS), encoding="utf-8")
    write_container_files(target, name, defaults)
    (target / "README.md").write_text(_readme(knowledge.client.name, len(knowledge.entries), name, settings), encoding="utf-8")
    return target


def _copy_knowledge(source: Path, target: Path, name: str) -> list[str]:
    """Copy the files the knowledge loader reads, and `botkit.yaml`, under `target/name`; their export paths.

    Nothing else comes along (no `.env`, `.review/`, databases or stray files), and no link
    to a file outside the knowledge folder is followed.
    """
    folder = source if source.is_dir() else source.parent
    files = [*knowledge_files(source)]
    client = client_file(source)
    if client is not None:
        files.append(client)
    copied = []
    for file in files:
        relative = Path(name) / file.relative_to(folder) if source.is_dir() else Path(file.name if file == client else name)
        (target / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(file, target / relative)
        copied.append(relative.as_posix())
    return sorted(copied)


def _write_requirements(target: Path, extras: tuple[str, ...]) -> None:
    """`wheels/` with botkit's wheel, `requirements.lock` pinning every dependency, and `requirements.txt` installing both."""
    wheel = botkit_wheel(target / "wheels")
    pins = pinned_requirements(extras, wheel)
    (target / LOCK).write_text(
        f"# Every dependency of botkit[{','.join(extras)}] as installed where this bot was exported.\n" + "".join(f"{p}\n" for p in pins),
        encoding="utf-8",
    )
    (target / "requirements.txt").write_text(
        "# Install from this folder: pip install -r requirements.txt (botkit comes from wheels/, never from an index)\n"
        f"-r {LOCK}\n./wheels/{wheel.name}[{','.join(extras)}]\n",
        encoding="utf-8",
    )


def _limits(channel: str) -> dict[str, object]:
    profile = get_profile(channel)
    return {"max_text": profile.max_text, "max_buttons": profile.max_buttons, "checked": profile.checked.isoformat()}


def _settings_defaults(settings: Settings, calibration: str | None) -> dict[str, str]:
    """The bot's settings as `BOTKIT_*` defaults; secrets and machine-specific paths left out."""
    out: dict[str, str] = {"BOTKIT_INDEX_DIR": "data"}
    for f in fields(Settings):
        value = getattr(settings, f.name)
        if not f.repr or value is None or f.name in ("index_dir", "database_url", "calibration"):
            continue
        out[f"BOTKIT_{f.name.upper()}"] = str(value).lower() if isinstance(value, bool) else _without_credentials(str(value))
    if calibration is not None:
        out["BOTKIT_CALIBRATION"] = calibration
    return out


def _without_credentials(value: str) -> str:
    """A URL without user:password@ and query (where API keys hide); any other value unchanged."""
    url = urlsplit(value)
    if not url.scheme or not url.netloc:
        return value
    host = url.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if url.port is not None:
        netloc += f":{url.port}"
    return urlunsplit((url.scheme, netloc, url.path, "", ""))


def _readme(client: str, entries: int, knowledge: str, settings: Settings) -> str:
    rows = "\n".join(f"| `{var}` | {help_} |" for var, help_ in ENV_VARS)
    index = (
        f"The index lives on the Chroma server at `{settings.chroma_url}` (`BOTKIT_CHROMA_URL`)."
        if settings.chroma_url
        else "`data/index/` holds the built index; nothing is embedded at start-up."
    )
    return f"""# {client}: botkit webhook bot

An exported [botkit](https://pypi.org/project/botkit/) FAQ bot ({entries} entries in `{knowledge}/`)
for Facebook Messenger, the WhatsApp Cloud API and Telegram. {index}
`botkit-export.json` records the bot's settings, channel limits and consent topics.

## Run

```bash
pip install -r requirements.txt
cp .env.example .env   # fill in the secrets of the platforms you use
uvicorn app:create --factory --host 0.0.0.0 --port 8080
```

Add `--workers 4` for several processes: they share `data/botkit.db` (SQLite in WAL mode)
or the database in `BOTKIT_DATABASE_URL`; for several machines also set `BOTKIT_CHROMA_URL`.
Events are saved before the platform gets its 200; a redelivered message is never answered again,
also across restarts. Sends are at-least-once for the message in flight when a process dies, exactly
once otherwise.

## Run in containers

```bash
cp .env.example .env   # the platform secrets and POSTGRES_PASSWORD
docker compose up --build --scale worker=2
```

`compose.yaml` runs the web role (`botkit serve`, port 8080, healthy when `/healthz` answers), the
worker role (`botkit worker`), PostgreSQL and a Chroma server (`BOTKIT_CHROMA_URL`); the services read
their secrets from `.env`, which never goes into the image (`.dockerignore`). The `Dockerfile` installs
botkit and every pinned dependency from wheels only, as a non-root user.

## Endpoints

| path | what |
|---|---|
| `GET /webhook/messenger`, `GET /webhook/whatsapp` | subscription handshake (`hub.mode`, `hub.verify_token`, `hub.challenge`) |
| `POST /webhook/messenger`, `POST /webhook/whatsapp` | events, checked with `X-Hub-Signature-256` |
| `POST /webhook/telegram` | updates, checked with `X-Telegram-Bot-Api-Secret-Token` |
| `GET /healthz` | liveness and pending work |
| `GET /openapi.json` | the OpenAPI schema |

A platform is served when its variables are set. Register the URLs: in the Meta app dashboard
the callback `https://YOUR-HOST/webhook/messenger` (or `/webhook/whatsapp`) with your
`BOTKIT_VERIFY_TOKEN`; for Telegram call
`https://api.telegram.org/bot<token>/setWebhook?url=https://YOUR-HOST/webhook/telegram&secret_token=<BOTKIT_TELEGRAM_SECRET_TOKEN>`.

## Environment variables

Read from the environment or a `.env` file in this folder (the environment wins). Secrets
are never logged; user ids and phone numbers appear in logs only as their last three characters.

| variable | meaning |
|---|---|
{rows}

Every other bot setting (`BOTKIT_THRESHOLD`, `BOTKIT_CLARIFY_MARGIN`, ...) defaults to the
value in `botkit-export.json` and can be overridden the same way.
"""
