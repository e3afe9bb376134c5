"""Keep a softmax model per knowledge base current without making anyone wait for it.

`Fitter.model` always answers at once: a model fitted on exactly these rows before (in this
process) is reused; otherwise, with an earlier model of nearly the same knowledge base at
hand (90 % of the entries, phrasings within 10 %: a small edit) that still assigns 95 % of the
new phrasings to their own entry, that model (extended to new entries) answers while a
warm-started refit runs in a background thread and replaces it when done; otherwise the
(warm-started) fit runs in the foreground.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

from botkit.scoring.softmax import SoftmaxModel, extend, fit_softmax

_REMEMBERED = 8  # recent models kept per process for reuse and warm starts
_MIN_OVERLAP = 0.9  # share of entries an earlier model must know to stand in while refitting
_MAX_ROW_CHANGE = 0.1  # ... and at most this relative change in phrasings (else the feature space moved too far)
_MIN_AGREEMENT = 0.95  # ... and still assign this share of the new phrasings to their own entry

_models: OrderedDict[str, tuple[SoftmaxModel, int]] = OrderedDict()  # fingerprint -> (model, rows fitted on)
_lock = threading.Lock()


def fingerprint(features: np.ndarray, labels: np.ndarray, classes: Sequence[str]) -> str:
    """A digest of exactly what a model is fitted on."""
    digest = hashlib.sha256()
    digest.update("\x1f".join(classes).encode())
    digest.update(np.ascontiguousarray(labels, dtype=np.int64).tobytes())
    digest.update(np.ascontiguousarray(features, dtype=np.float32).tobytes())
    return digest.hexdigest()


class Fitter:
    """The current softmax model of one set of rows; see the module docstring."""

    def __init__(self, features: np.ndarray, labels: np.ndarray, classes: Sequence[str]) -> None:
        self._key = fingerprint(features, labels, classes)
        self._done = threading.Event()
        with _lock:
            known = _models.get(self._key)
            earlier = None if known else _closest(set(classes), features.shape)
        if known is not None:
            self.model = known[0]
            self._done.set()
        elif earlier is None:
            self.model = self._remember(fit_softmax(features, labels, classes), len(features))
            self._done.set()
        else:
            stand_in = extend(earlier, features, labels, classes)
            if _agreement(stand_in, features, labels) < _MIN_AGREEMENT:  # the feature space moved: fit now
                self.model = self._remember(fit_softmax(features, labels, classes, start=earlier), len(features))
                self._done.set()
                return
            self.model = stand_in
            thread = threading.Thread(target=self._refit, args=(features, labels, classes, earlier), daemon=True, name="botkit-refit")
            thread.start()

    @property
    def refitting(self) -> bool:
        """Is a background refit still running (the stand-in model answering)?"""
        return not self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the refit is done (True) or `timeout` seconds passed (False)."""
        return self._done.wait(timeout)

    def _refit(self, features: np.ndarray, labels: np.ndarray, classes: Sequence[str], earlier: SoftmaxModel) -> None:
        try:
            self.model = self._remember(fit_softmax(features, labels, classes, start=earlier), len(features))
        finally:
            self._done.set()

    def _remember(self, model: SoftmaxModel, rows: int) -> SoftmaxModel:
        with _lock:
            _models[self._key] = (model, rows)
            _models.move_to_end(self._key)
            while len(_models) > _REMEMBERED:
                _models.popitem(last=False)
        return model


def _agreement(model: SoftmaxModel, features: np.ndarray, labels: np.ndarray) -> float:
    """Share of the rows the model assigns to their own entry."""
    predicted = np.argmax(features @ model.weights + model.biases, axis=1)
    return float(np.mean(predicted == labels))


def _closest(classes: set[str], shape: tuple[int, ...]) -> SoftmaxModel | None:
    """The remembered model sharing most entries with `classes`, if it shares enough and was fitted on
    features like these (same dimension, about as many phrasings)."""
    rows, dims = shape
    best, overlap = None, 0.0
    for model, fitted_rows in _models.values():
        if model.weights.shape[0] != dims or abs(fitted_rows - rows) > _MAX_ROW_CHANGE * max(rows, 1):
            continue
        shared = len(classes.intersection(model.classes)) / max(len(classes), 1)
        if shared > overlap:
            best, overlap = model, shared
    return best if overlap >= _MIN_OVERLAP else None
