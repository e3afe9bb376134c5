"""Fuse per-entry evidence into one score and turn the scores into confidences in [0, 1].

Per entry, `S = w_lr * logit + (w_sim * similarity + w_tfidf * tfidf) / 0.1`: the softmax
regression's logit (when the knowledge base is small enough to fit one), the whitened
cosine similarity and the character n-gram TF-IDF similarity. An entry's raw confidence is
`S_i + 8 * log softmax(S)_top`: for the best entry, high needs both a high score and no
rival close to it; the others keep their distance in score below it. The
raw value is squashed with a fixed logistic, `1 / (1 + exp(-(raw - CENTER) / WIDTH))`, so
confidence is in [0, 1], keeps the order of the entries, and means the same for every
knowledge base scored with the same weights.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SCALE = 0.1  # similarities are divided by this, to sit on the scale of logits
SHARPNESS = 8.0  # weight of the log softmax share in the raw confidence
CENTER = 5.0
WIDTH = 4.0


@dataclass(frozen=True)
class Weights:
    """How much each kind of evidence counts."""

    logit: float
    similarity: float
    tfidf: float


WITH_REGRESSION = Weights(logit=1.0, similarity=0.5, tfidf=0.5)
WITHOUT_REGRESSION = Weights(logit=0.0, similarity=1.0, tfidf=0.25)


def scores(weights: Weights, similarity: np.ndarray, tfidf: np.ndarray, logits: np.ndarray | None = None) -> np.ndarray:
    """Per-entry fused score `S` (see the module docstring)."""
    fused = (weights.similarity * similarity + weights.tfidf * tfidf) / SCALE
    if logits is not None and weights.logit:
        fused = fused + weights.logit * logits
    return fused


def confidences(fused: np.ndarray) -> np.ndarray:
    """Confidence in [0, 1] of every entry, from the fused scores of all competing entries.

    The best entry's is the documented confidence; every other entry gets the same
    competition term, so the gap between two entries' confidences follows the gap between
    their scores (a close runner-up is a close call for clarification and suggestions).
    """
    top = float(np.max(fused))
    top_log_share = -float(np.log(np.exp(fused - top).sum()))
    raw = fused + SHARPNESS * top_log_share
    with np.errstate(over="ignore"):
        squashed: np.ndarray = 1.0 / (1.0 + np.exp(-(raw - CENTER) / WIDTH))
    return squashed
