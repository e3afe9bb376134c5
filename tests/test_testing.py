"""botkit.testing's FakeEmbedder: deterministic, normalised, and similar texts are similar."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np

from botkit.testing import FakeEmbedder

TEXTS = ["Wie melde ich meinen Zählerstand?", "Wie melde ich den Zählerstand?", "Do you offer solar panels?", ""]


def test_vectors_are_unit_length_and_the_same_in_every_process():
    vectors = FakeEmbedder().embed(TEXTS)
    assert vectors.shape == (4, 256) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)
    code = f"import json; from botkit.testing import FakeEmbedder; print(json.dumps(FakeEmbedder().embed({TEXTS!r}).tolist()))"
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert np.array_equal(np.array(json.loads(other.stdout), dtype=np.float32), vectors)  # str hashes differ per process


def test_texts_sharing_words_are_closer_than_unrelated_ones():
    a, b, c, _ = FakeEmbedder().embed(TEXTS)
    assert float(a @ b) > 0.8 and float(a @ c) < 0.3


def test_other_dimensions_are_another_embedder_version():
    assert FakeEmbedder(64).version != FakeEmbedder().version
    assert FakeEmbedder(64).embed(["x"]).shape == (1, 64)
