"""Which text of a message the intent matcher and the retriever embed, on TUNING data only.

`python -m benchmarks.message_form` from the repository root. For each form of the message:
the intent matcher on its tuning set (`benchmarks/intent_tuning/`, thresholds re-chosen per form
as `benchmarks.intents` does; examples casefolded) and the retriever on the sample's
`tune-cases.csv` and the German FAQ development half (`benchmarks.scorer_variants`' harness,
the query embedded in the form, the index as built). Then the intent matcher's screen
(`SCREEN_SLACK`): how close tuning messages of a kind come to a floor in the retriever's form,
and the share of tuning questions that take one embedded text. Test sets are never read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from benchmarks import banking77, german_faq, intents, scorer_variants
from benchmarks.harness import CachedEmbedder
from botkit.knowledge import load_knowledge
from botkit.policy import intents as policy
from botkit.protocols import Embedder
from botkit.textform import embedding_form, squeeze

Form = Callable[[str], str]
FORMS: dict[str, Form] = {
    "casefolded": lambda t: squeeze(policy.normalise(t)),
    "first letter lowered": lambda t: embedding_form(t)[:1].lower() + embedding_form(t)[1:],
    "embedding_form (case kept)": embedding_form,
}


class Formed:
    """The embedder with single texts (queries, messages) put in `form` first; batches (index builds) as given."""

    def __init__(self, inner: Embedder, form: Form) -> None:
        self.inner, self.form = inner, form
        self.model_id, self.version = inner.model_id, inner.version

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return np.asarray(self.inner.embed([self.form(t) for t in texts] if len(texts) <= 2 else texts), dtype=np.float32)


class FormMatcher(policy.IntentMatcher):
    """The intent matcher deciding on the message embedded in one form (no screen)."""

    def __init__(self, embedder: Embedder, form: Form, **options: object) -> None:
        super().__init__(embedder, **options)  # type: ignore[arg-type]
        self._form = form

    def scores(self, text: str) -> dict[str, float] | None:
        target = self._target(text)
        return None if isinstance(target, policy.Intent) else self._similarities([text])[0]

    def _classify(self, text: str) -> policy.Intent:
        target = self._target(text)
        if isinstance(target, policy.Intent) or target[0] is not None:
            return super()._classify(text)
        return policy.decide(self._similarities([text])[0], self._thresholds)

    def _similarities(self, texts: Sequence[str], *, folded: bool = True) -> list[dict[str, float]]:
        """Against the casefolded examples, as the matcher decides."""
        sims = np.asarray(self._embedder.embed([self._form(t) for t in texts]), dtype=np.float32) @ self._matrix.T
        return [{k: float(np.sort(row[mask])[-self._neighbours :].mean()) for k, mask in self._masks.items() if mask.any()} for row in sims]


def matcher_row(embedder: Embedder, form: Form, names: list[str]) -> str:
    tuning = intents.load_tuning()
    matcher = FormMatcher(embedder, form, bot_names=names)
    scored = {k: [s for t in texts if (s := matcher.scores(t)) is not None] for k, texts in tuning.items()}
    chosen, loss = {}, 0.0
    for kind in policy.KINDS:
        threshold, recall, false = intents.choose(kind, scored)
        chosen[kind] = threshold
        loss += intents.MISS_WEIGHT.get(kind, 1.0) * (1 - recall) + false
    tuned = FormMatcher(embedder, form, bot_names=names, thresholds=chosen)
    wrong = sum(
        not (got == kind or (kind in policy.SMALL_TALK and got in policy.SMALL_TALK))
        for kind, texts in tuning.items()
        for got in (tuned.classify(t).kind for t in texts)
    )
    return f"matcher: {wrong} of {sum(map(len, tuning.values()))} wrong, per-kind loss {loss:.3f}"


def screen(embedder: Embedder, names: list[str]) -> None:
    matcher = policy.IntentMatcher(embedder, bot_names=names)
    tuning = intents.load_tuning()

    def lead(text: str) -> float | None:
        target = matcher._target(text)
        if isinstance(target, policy.Intent) or target[0] is not None:
            return None
        scores = matcher._similarities([embedding_form(target[1])], folded=False)[0]
        return max(scores[k] - t.similarity for k, t in policy.THRESHOLDS.items())

    folded = [(t, matcher.scores(t)) for ts in tuning.values() for t in ts]
    kinds = [lead(t) for t, scores in folded if scores is not None and policy.decide(scores, policy.THRESHOLDS).kind != "none"]
    print(f"screen: closest tuning message of a kind, cased lead over its floor {min(x for x in kinds if x is not None):+.3f}")
    _, dev, _ = german_faq.load()
    _, b77, _ = banking77.split(0)
    for name, texts in (("German development", [t for t, _ in dev]), ("Banking77 seed 0 tuning", [c.text for c in b77])):
        leads = np.array([x for t in texts if (x := lead(t)) is not None])
        print(f"screen: {name}: one embedded text for {np.mean(leads < -policy.SCREEN_SLACK):.0%} of {len(leads)} at slack {policy.SCREEN_SLACK}")


def main() -> None:
    from botkit.wiring import default_embedder

    embedder = CachedEmbedder(default_embedder(), scorer_variants.CACHE)
    names = [load_knowledge(intents.ROOT / "knowledge").client.bot_name]
    try:
        for name, form in FORMS.items():
            row = {**scorer_variants.sample(Formed(embedder, form)), **scorer_variants.german(Formed(embedder, form))}
            print(f"{name}: {matcher_row(embedder, form, names)}; retriever: " + " ".join(f"{k}={v:.3f}" for k, v in row.items()), flush=True)
        screen(embedder, names)
    finally:
        embedder.save()


if __name__ == "__main__":
    main()
