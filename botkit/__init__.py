"""botkit: honest, retrieval-grounded FAQ bots for messengers."""

from botkit.bot import Bot
from botkit.config import Settings
from botkit.consent import ConsentFlow, ConsentLedger, send_campaign
from botkit.defaults import build, open_bot
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
)
from botkit.knowledge import KnowledgeBase, load_knowledge
from botkit.phrasing import Phraser, Phrasing
from botkit.types import Decision, Draft, FaqEntry, Handover, Hit, Message, Reply, Retrieval

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
    "Reply",
    "Retrieval",
    "Settings",
    "SignatureError",
    "build",
    "load_knowledge",
    "open_bot",
    "send_campaign",
]
