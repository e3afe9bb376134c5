"""Settings: one frozen object, offline defaults, read from the environment only at the edges."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path

from botkit.errors import ConfigError


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Everything that can be configured; the defaults run offline with no API key.

    Environment variables are the field names upper-cased with a `BOTKIT_` prefix,
    e.g. `BOTKIT_THRESHOLD=0.6` or `BOTKIT_DATABASE_URL=postgresql://...`.
    """

    index_dir: Path | None = None  # default: `.botkit/` beside the knowledge base
    database_url: str | None = None  # default: SQLite in the index folder
    chroma_url: str | None = None  # a `chroma run` server instead of the on-disk index
    threshold: float = 0.8  # below this confidence the bot hands over (few-wrong across several knowledge bases: benchmarks/README.md)
    clarify_margin: float = 0.16  # top two entries closer than this (and both above threshold): ask (same calibration)
    suggest_threshold: float = 0.43  # from here up to `threshold`: offer the best entries and a person (same calibration)
    max_misses: int = 2  # unhelpful turns in a row (clarifications, suggestions, repeated answers) before a handover
    handover_timeout_minutes: float = 30.0  # nobody took a waiting handover by then: tell the user, back to the bot
    disclosure_pause_minutes: float = 240.0  # disclose again after a pause this long
    index_answers: bool = True  # also embed (and match words of) answers: better on the sample and German FAQ tuning splits (benchmarks/README.md)
    calibration: Path | None = None  # from `botkit tune`: its threshold and clarify margin win
    llm: bool = False  # phrase answers with an LLM (gated; verbatim on any doubt); also on with llm_base_url
    llm_base_url: str | None = None  # OpenAI-compatible API root, e.g. http://127.0.0.1:8080/v1; None: api.openai.com
    llm_model: str = "gpt-4o-mini"  # any name for llama.cpp's server; the deployment's model for Ollama/vLLM
    llm_api_key: str | None = field(default=None, repr=False)
    llm_timeout: float = 10.0  # seconds; a slower LLM gets the verbatim answer sent instead
    handover_webhook_url: str | None = field(default=None, repr=False)  # POST a signed notice of each new handover here (Slack URLs hold a token)
    handover_webhook_secret: str | None = field(default=None, repr=False)  # HMAC-SHA256 key of those notices
    retention_days: str | None = None  # e.g. "webhook=30,transcripts=180,handovers=365,deliveries=365,consent_after_withdrawal=1095" (botkit.retention)
    max_file_bytes: int = 5_000_000  # knowledge files, botkit.yaml and client exports above this are refused
    embedder: str = "use"  # "use" (default), "e5" or "use+e5": the e5 ones need the e5 extra and their own `botkit tune`
    review_conversations: bool = False  # opt-in: `botkit review` reads served conversations (their messages may go into knowledge and cases)
    reload_seconds: float = 0.0  # > 0: a running bot checks its knowledge files this often and reloads edits (botkit.reload); 0: never

    @property
    def llm_enabled(self) -> bool:
        """Is LLM phrasing on (`llm` or an `llm_base_url` given)?"""
        return self.llm or self.llm_base_url is not None

    def __post_init__(self) -> None:
        if self.index_dir is not None and not isinstance(self.index_dir, Path):
            object.__setattr__(self, "index_dir", Path(self.index_dir))
        if not 0.0 <= self.threshold <= 1.0:
            raise ConfigError(f"threshold {self.threshold} must be between 0 and 1 (confidence is in [0, 1])")
        if not 0.0 <= self.suggest_threshold <= 1.0:
            raise ConfigError(f"suggest_threshold {self.suggest_threshold} must be between 0 and 1")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Read `BOTKIT_*` variables; explicit keyword overrides win."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = env.get(f"BOTKIT_{f.name.upper()}")
            if raw is None or raw == "":
                continue
            values[f.name] = _parse(f.name, str(f.type), raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]


def _parse(name: str, kind: str, raw: str) -> object:
    try:
        if kind.startswith("float"):
            return float(raw)
        if kind.startswith("int"):
            return int(raw)
        if kind.startswith("bool"):
            if raw.lower() not in {"1", "0", "true", "false", "yes", "no"}:
                raise ValueError(raw)
            return raw.lower() in {"1", "true", "yes"}
        if kind.startswith("Path"):
            return Path(raw)
        return raw
    except ValueError as exc:
        raise ConfigError(f"BOTKIT_{name.upper()}={raw!r} is not a valid {kind.split(' ')[0]}") from exc
