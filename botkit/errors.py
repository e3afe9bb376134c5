"""The one tree of exceptions botkit raises."""

from __future__ import annotations

from dataclasses import dataclass


class BotkitError(Exception):
    """Base class for every error botkit raises."""


class ConfigError(BotkitError, ValueError):
    """A setting, name or option is wrong; the message says which and what is allowed."""


@dataclass(frozen=True)
class Problem:
    """One validation problem at a place in an input file."""

    file: str
    line: int | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        field = f" {self.field!r}" if self.field else ""
        return f"{where}:{field} {self.message}"


class KnowledgeError(BotkitError):
    """A knowledge base or test file is invalid; carries every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        noun = "problem" if len(self.problems) == 1 else "problems"
        super().__init__(f"{len(self.problems)} {noun} found; nothing was indexed. Fix them and run again:\n{lines}")


class EvaluationDataError(KnowledgeError):
    """A test cases, conversations or calibration file is invalid; carries every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        noun = "problem" if len(self.problems) == 1 else "problems"
        BotkitError.__init__(self, f"{len(self.problems)} {noun} found; nothing was evaluated. Fix them and run again:\n{lines}")


class IndexMismatchError(BotkitError):
    """An index or calibration was made with another embedder."""


class ProviderError(BotkitError):
    """An embedder, vector store or LLM failed."""


class LLMError(ProviderError):
    """A chat model call failed; `kind` says how, so the bot can record why it answered verbatim.

    Kinds: timeout, rate_limited, auth, server_error, bad_request, unreachable, truncated, error.
    """

    def __init__(self, message: str, kind: str = "error") -> None:
        super().__init__(message)
        self.kind = kind


class ChannelError(BotkitError):
    """A channel payload or rendering problem."""


class SignatureError(ChannelError):
    """A webhook request is unsigned or wrongly signed."""


class StaleRequestError(SignatureError):
    """A signed webhook request is older than the platform's time window (a replay, or a stuck queue)."""


class PayloadError(ChannelError):
    """A webhook body is malformed or of an unknown shape."""


class ConsentError(BotkitError):
    """A consent operation is not allowed or its data is inconsistent."""


class HandoverError(BotkitError):
    """A handover does not exist or is not in the state the action needs (e.g. a reply before `take`)."""
