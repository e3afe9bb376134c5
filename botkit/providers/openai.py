"""Chat models behind any OpenAI-compatible endpoint, through LangChain's `ChatOpenAI`.

Works with OpenAI, Azure OpenAI's v1 endpoint (`https://NAME.openai.azure.com/openai/v1/`),
Ollama, vLLM and llama.cpp's server (`botkit llm serve`). No code path here counts tokens:
that would load tiktoken's encoding files, which are downloaded on first use.
"""

from __future__ import annotations

import openai
from langchain_core.exceptions import LangChainException
from langchain_core.messages import HumanMessage, SystemMessage
from langchain_openai import ChatOpenAI

from botkit.errors import LLMError

# Local servers ignore the key, but the openai client refuses to start without one; an
# explicit placeholder also keeps it from reading OPENAI_API_KEY from the environment.
_NO_KEY = "not-needed"


class OpenAIChat:
    """A `ChatModel` for an OpenAI-compatible chat completions API.

    Args:
        model: the model name the endpoint expects (any name for llama.cpp's server).
        base_url: the API root, e.g. `http://127.0.0.1:8080/v1`; None for api.openai.com.
        timeout: seconds per request; a slower answer raises `LLMError(kind="timeout")`.
        max_retries: retries inside the client; 0 by default, because the bot falls back
            to the verbatim answer instead of keeping a user waiting.
        streaming: request server-sent events and join them (same result, first byte sooner).
    """

    def __init__(
        self,
        *,
        model: str,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float = 10.0,
        max_retries: int = 0,
        streaming: bool = False,
        temperature: float = 0.0,
    ) -> None:
        self.model_id = model
        self.base_url = base_url
        self._llm = ChatOpenAI(
            model=model,
            base_url=base_url,
            api_key=api_key or _NO_KEY,
            timeout=timeout,
            max_retries=max_retries,
            streaming=streaming,
            temperature=temperature,
        )

    def __repr__(self) -> str:
        return f"OpenAIChat(model={self.model_id!r}, base_url={self.base_url!r})"

    def complete(self, system: str, user: str, *, max_tokens: int) -> str:
        """The model's reply to one system prompt and one user message."""
        where = f"LLM {self.model_id!r} at {self.base_url or 'api.openai.com'}"
        try:
            message = self._llm.invoke([SystemMessage(system), HumanMessage(user)], max_tokens=max_tokens)
        except openai.APITimeoutError as exc:
            raise LLMError(f"{where} did not answer in time: {exc}", "timeout") from exc
        except openai.RateLimitError as exc:
            raise LLMError(f"{where} is rate limited: {exc}", "rate_limited") from exc
        except (openai.AuthenticationError, openai.PermissionDeniedError) as exc:
            raise LLMError(f"{where} refused the API key; check BOTKIT_LLM_API_KEY: {exc}", "auth") from exc
        except openai.InternalServerError as exc:
            raise LLMError(f"{where} failed with a server error: {exc}", "server_error") from exc
        except openai.APIStatusError as exc:
            raise LLMError(f"{where} rejected the request ({exc.status_code}): {exc}", "bad_request") from exc
        except openai.APIConnectionError as exc:
            raise LLMError(f"{where} is unreachable; check BOTKIT_LLM_BASE_URL: {exc}", "unreachable") from exc
        except (openai.OpenAIError, LangChainException) as exc:
            raise LLMError(f"{where} failed: {exc}", "error") from exc
        if message.response_metadata.get("finish_reason") == "length":  # cut off mid-sentence: never send it
            raise LLMError(f"{where} hit the limit of {max_tokens} tokens before finishing", "truncated")
        return message.text.strip()
