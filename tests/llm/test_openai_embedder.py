"""`OpenAIEmbedder` with the real `openai` client against a local `/v1/embeddings` stand-in.

The stand-in speaks the documented wire format of OpenAI's embeddings endpoint
(https://platform.openai.com/docs/api-reference/embeddings/create): a bearer token, a JSON
body with `model`, `input` (a list of strings) and `encoding_format` ("float", or "base64"
for little-endian float32 bytes, which the official client asks for by default); the answer
is `{"object": "list", "data": [{"object": "embedding", "index": i, "embedding": ...}],
"model": ..., "usage": ...}`, and errors are `{"error": {"message", "type", "code"}}`.
Its vectors are `FakeEmbedder`'s (hashed character 3-grams), scaled so they are not unit length.
"""

from __future__ import annotations

import base64
import socket
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

openai = pytest.importorskip("openai", reason="the OpenAI client is not installed (pip install 'botkit[llm]')")

from starlette.applications import Starlette  # noqa: E402
from starlette.requests import Request  # noqa: E402
from starlette.responses import JSONResponse  # noqa: E402
from starlette.routing import Route  # noqa: E402

from botkit import Settings, open_bot  # noqa: E402
from botkit.errors import IndexMismatchError, ProviderError  # noqa: E402
from botkit.providers.embedders import OpenAIEmbedder  # noqa: E402
from botkit.testing import FakeEmbedder  # noqa: E402
from tests.webhook.support import ServerThread  # noqa: E402

KEY = "test-embeddings-key"
MODEL = "text-embedding-3-small"
SCALE = 3.0  # the stand-in's vectors are not unit length: the embedder must normalise them


class EmbeddingsApi:
    """Records the request bodies it answered."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self._vectors = FakeEmbedder(dimensions=64)
        self.app = Starlette(routes=[Route("/v1/embeddings", self._embeddings, methods=["POST"])])

    async def _embeddings(self, request: Request) -> JSONResponse:
        if request.headers.get("authorization") != f"Bearer {KEY}":
            return _error(401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key")
        body = await request.json()
        self.bodies.append(body)
        texts = body.get("input")
        if not isinstance(texts, list) or not texts or not all(isinstance(t, str) and t for t in texts):
            return _error(400, "'input' must be a non-empty list of non-empty strings.", "invalid_request_error", None)
        vectors = self._vectors.embed(texts) * SCALE
        encoded = body.get("encoding_format", "float")
        data = [{"object": "embedding", "index": i, "embedding": _encode(v, encoded)} for i, v in enumerate(vectors)]
        usage = {"prompt_tokens": sum(len(t.split()) for t in texts), "total_tokens": sum(len(t.split()) for t in texts)}
        return JSONResponse({"object": "list", "data": data, "model": body["model"], "usage": usage})


def _encode(vector: np.ndarray, encoding: str) -> Any:
    if encoding == "base64":
        return base64.b64encode(vector.astype("<f4").tobytes()).decode()
    return [float(x) for x in vector]


def _error(status: int, message: str, kind: str, code: str | None) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": kind, "param": None, "code": code}}, status_code=status)


@pytest.fixture(scope="module")
def api() -> Iterator[tuple[EmbeddingsApi, str]]:
    stand_in = EmbeddingsApi()
    server = ServerThread(stand_in.app).start()
    yield stand_in, f"{server.url}/v1"
    server.stop()


def embedder_for(url: str, key: str = KEY, model: str = MODEL) -> OpenAIEmbedder:
    return OpenAIEmbedder(openai.OpenAI(base_url=url, api_key=key, max_retries=0, timeout=10.0), model)


def test_vectors_come_back_unit_length_in_input_order(api):
    stand_in, url = api
    texts = ["Wie melde ich meinen Zählerstand?", "Abschlag ändern", "How do I submit my meter reading?"]
    vectors = embedder_for(url).embed(texts)
    assert vectors.shape == (3, 64) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(vectors, FakeEmbedder(dimensions=64).embed(texts), atol=1e-6)  # same directions, same order
    assert stand_in.bodies[-1]["model"] == MODEL and stand_in.bodies[-1]["input"] == texts


def test_the_embedder_names_its_model_for_the_index():
    embedder = OpenAIEmbedder(client=None, model=MODEL)
    assert (embedder.model_id, embedder.version) == (f"openai:{MODEL}", MODEL)


@pytest.mark.parametrize(
    "key, texts, status",
    [("wrong-key", ["Zählerstand"], openai.AuthenticationError), (KEY, [""], openai.BadRequestError)],
)
def test_api_errors_become_provider_errors_that_keep_the_cause(api, key, texts, status):
    _, url = api
    with pytest.raises(ProviderError, match=f"embedding with {MODEL} failed") as raised:
        embedder_for(url, key=key).embed(texts)
    assert isinstance(raised.value.__cause__, status)


def test_an_unreachable_endpoint_is_a_provider_error():
    # A port held (bound, not listening) for the whole test: no other server can take it meanwhile.
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        port = held.getsockname()[1]
        with pytest.raises(ProviderError) as raised:
            embedder_for(f"http://127.0.0.1:{port}/v1").embed(["Zählerstand"])
    assert isinstance(raised.value.__cause__, openai.APIConnectionError)


def test_a_bot_builds_its_index_through_the_api_and_answers_from_it(api, kb_copy, tmp_path):
    stand_in, url = api
    settings = Settings(index_dir=tmp_path / "index", database_url=f"sqlite:///{tmp_path / 'botkit.db'}")
    before = len(stand_in.bodies)
    with open_bot(kb_copy, settings, embedder=embedder_for(url)) as bot:
        reply = bot.reply("c1", "Wie melde ich meinen Zählerstand?")
    assert reply.entries == ("zaehlerstand-melden",)
    embedded = [t for body in stand_in.bodies[before:] for t in body["input"]]
    assert "Wie melde ich meinen Zählerstand?" in embedded
    # the index records the model: another one is refused instead of comparing unrelated vectors
    with pytest.raises(IndexMismatchError, match=f"openai:{MODEL}"):
        open_bot(kb_copy, settings, embedder=embedder_for(url, model="text-embedding-3-large"))
