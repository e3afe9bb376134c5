"""The container files of an exported bot: `Dockerfile`, `.dockerignore` and `compose.yaml`.

The image installs botkit and every pinned dependency from wheels only (`pip install --no-index`);
the one step that reaches a package index is the `wheels` build stage, which turns `requirements.lock`
into wheels beside the exported botkit wheel. It runs as a non-root user in two roles: `web`
(`botkit serve`, with a `HEALTHCHECK` on `/healthz`) and `worker` (`botkit worker`).
`compose.yaml` runs both on PostgreSQL and a Chroma server, with secrets from `.env`.
"""

from __future__ import annotations

import re
from importlib.metadata import version
from pathlib import Path

import yaml

PORT = 8080
POSTGRES_IMAGE = "postgres:17"
_INDEX_STEP = "pip wheel --no-cache-dir --disable-pip-version-check --wheel-dir wheels --find-links wheels -r requirements.lock"
_INSTALL_STEP = "pip install --no-cache-dir --disable-pip-version-check --no-index --find-links wheels -r requirements.txt"
_HEALTH = f"import urllib.request; urllib.request.urlopen('http://127.0.0.1:{PORT}/healthz', timeout=4)"


def write_container_files(target: Path, knowledge: str, settings: dict[str, str]) -> None:
    """Write `Dockerfile`, `.dockerignore` and `compose.yaml` into the export folder `target`.

    Args:
        knowledge: the knowledge folder's name inside the export.
        settings: the export's `BOTKIT_*` defaults; relative paths in them are taken from `/app`.
    """
    (target / "Dockerfile").write_text(dockerfile(knowledge, settings), encoding="utf-8")
    (target / ".dockerignore").write_text(".env\n*.log\n__pycache__/\n", encoding="utf-8")
    compose = yaml.safe_dump(compose_spec(knowledge), sort_keys=False, width=120)
    (target / "compose.yaml").write_text(f"# Run the bot: cp .env.example .env, fill it in, then: docker compose up --build\n{compose}", encoding="utf-8")


def dockerfile(knowledge: str, settings: dict[str, str]) -> str:
    """The Dockerfile: a `wheels` build stage, then the `worker` and `web` (default) roles of one app image."""
    env = " \\\n    ".join(f"{key}={_quoted(_in_app(key, value))}" for key, value in sorted(settings.items()))
    cmd = f'"/app/{knowledge}"'
    return f"""# syntax=docker/dockerfile:1
# An exported botkit bot. `docker compose up --build` runs it with PostgreSQL and a Chroma server (compose.yaml);
# `docker build --target worker .` builds the worker role, the default target is the web role.

FROM python:3.11-slim AS wheels
WORKDIR /app
COPY requirements.lock ./
COPY wheels/ wheels/
# The only step that reaches a package index: each pinned dependency becomes a wheel beside botkit's own.
RUN {_INDEX_STEP}

FROM python:3.11-slim AS app
ENV PYTHONUNBUFFERED=1 PATH=/opt/venv/bin:$PATH
RUN python -m venv /opt/venv && useradd --system --uid 10001 --home-dir /app botkit
WORKDIR /app
COPY requirements.txt requirements.lock ./
RUN --mount=type=bind,from=wheels,source=/app/wheels,target=/app/wheels {_INSTALL_STEP}
COPY --chown=botkit:botkit {knowledge}/ {knowledge}/
COPY --chown=botkit:botkit data/ data/
COPY --chown=botkit:botkit botkit-export.json app.py ./
ENV {env}
USER botkit

FROM app AS worker
CMD ["botkit", "worker", {cmd}]

FROM app AS web
EXPOSE {PORT}
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 CMD ["python", "-c", "{_HEALTH}"]
CMD ["botkit", "serve", {cmd}, "--host", "0.0.0.0", "--port", "{PORT}"]
"""


def compose_spec(knowledge: str) -> dict[str, object]:
    """`compose.yaml` as data: web and worker from the Dockerfile, PostgreSQL and a Chroma server.

    Secrets stay in `.env`: the services read it with `env_file`, and the database password is
    interpolated from it (Compose refuses to start while `POSTGRES_PASSWORD` is unset).
    """
    password = "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD in .env}"

    def role(target: str, **environment: str) -> dict[str, object]:
        return {
            "build": {"context": ".", "target": target},
            "env_file": [".env"],
            "environment": {
                "BOTKIT_DATABASE_URL": f"postgresql+psycopg://botkit:{password}@postgres:5432/botkit",
                "BOTKIT_CHROMA_URL": "http://chroma:8000",
                **environment,
            },
            "restart": "unless-stopped",
        }

    return {
        "name": _project_name(knowledge),
        "services": {
            "web": {
                **role("web", BOTKIT_WEB_REPLIES="0"),  # the worker services reply; the web verifies, saves, acknowledges
                "ports": [f"{PORT}:{PORT}"],
                "depends_on": {"postgres": {"condition": "service_healthy"}, "chroma": {"condition": "service_started"}},
            },
            "worker": {
                **role("worker"),
                # the web process creates the tables and fills the Chroma index first
                "depends_on": {"web": {"condition": "service_healthy"}},
            },
            "postgres": {
                "image": POSTGRES_IMAGE,
                "environment": {"POSTGRES_USER": "botkit", "POSTGRES_DB": "botkit", "POSTGRES_PASSWORD": password},
                "volumes": ["postgres-data:/var/lib/postgresql/data"],
                "healthcheck": {"test": ["CMD", "pg_isready", "-U", "botkit", "-d", "botkit"], "interval": "5s", "timeout": "5s", "retries": 10},
                "restart": "unless-stopped",
            },
            "chroma": {
                "image": f"chromadb/chroma:{version('chromadb')}",  # the server matching the pinned client
                "volumes": ["chroma-data:/data"],
                "restart": "unless-stopped",
            },
        },
        "volumes": {"postgres-data": {}, "chroma-data": {}},
    }


def _in_app(key: str, value: str) -> str:
    return f"/app/{value}" if key in ("BOTKIT_INDEX_DIR", "BOTKIT_CALIBRATION") else value


def _quoted(value: str) -> str:
    """A Dockerfile `ENV` value in double quotes, with `\\`, `"` and `$` escaped."""
    return '"' + re.sub(r'([\\"$])', r"\\\1", value) + '"'


def _project_name(knowledge: str) -> str:
    """A Compose project name (lower-case letters, digits, `-` and `_`, starting with a letter or digit)."""
    name = re.sub(r"[^a-z0-9_-]+", "-", knowledge.lower()).strip("-_")
    return f"botkit-{name}" if name else "botkit"
