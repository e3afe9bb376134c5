"""botkit: honest, retrieval-grounded FAQ bots for messengers.

The public names load on first use (PEP 562), so `import botkit` and `import botkit.errors`
stay fast: the bot, its embedder and its vector store are imported only when asked for.
"""

import importlib
import typing

if typing.TYPE_CHECKING:
    from botkit.bot import Bot
    from botkit.config import Settings
    from botkit.consent import ConsentFlow, ConsentLedger, send_campaign
    from botkit.errors import (
        BotkitError,
        ChannelError,
        ConfigError,
        ConsentError,
        EvaluationDataError,
        HandoverError,
        IndexMismatchError,
        KnowledgeError,
        LLMError,
        PayloadError,
        ProviderError,
        SignatureError,
        StaleRequestError,
    )
    from botkit.knowledge import KnowledgeBase, load_knowledge
    from botkit.phrasing import Phraser, Phrasing
    from botkit.types import Decision, Draft, FaqEntry, Handover, Hit, Message, Reason, Reply, Retrieval
    from botkit.wiring import build, open_bot

_ERRORS = (
    "BotkitError",
    "ChannelError",
    "ConfigError",
    "ConsentError",
    "EvaluationDataError",
    "HandoverError",
    "IndexMismatchError",
    "KnowledgeError",
    "LLMError",
    "PayloadError",
    "ProviderError",
    "SignatureError",
    "StaleRequestError",
)
_TYPES = ("Decision", "Draft", "FaqEntry", "Handover", "Hit", "Message", "Reason", "Reply", "Retrieval")
_HOMES: dict[str, str] = {
    "Bot": "botkit.bot",
    "ConsentFlow": "botkit.consent",
    "ConsentLedger": "botkit.consent",
    "KnowledgeBase": "botkit.knowledge",
    "Phraser": "botkit.phrasing",
    "Phrasing": "botkit.phrasing",
    "Settings": "botkit.config",
    "build": "botkit.wiring",
    "load_knowledge": "botkit.knowledge",
    "open_bot": "botkit.wiring",
    "send_campaign": "botkit.consent",
    **dict.fromkeys(_ERRORS, "botkit.errors"),
    **dict.fromkeys(_TYPES, "botkit.types"),
}

__all__ = [
    "Bot",
    "BotkitError",
    "ChannelError",
    "ConfigError",
    "ConsentError",
    "ConsentFlow",
    "ConsentLedger",
    "Decision",
    "Draft",
    "EvaluationDataError",
    "FaqEntry",
    "Handover",
    "HandoverError",
    "Hit",
    "IndexMismatchError",
    "KnowledgeBase",
    "KnowledgeError",
    "LLMError",
    "Message",
    "PayloadError",
    "Phraser",
    "Phrasing",
    "ProviderError",
    "Reason",
    "Reply",
    "Retrieval",
    "Settings",
    "SignatureError",
    "StaleRequestError",
    "build",
    "load_knowledge",
    "open_bot",
    "send_campaign",
]


def __getattr__(name: str) -> typing.Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'botkit' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOMES})
