"""Choose the intent matcher's thresholds (`botkit.policy.intents.THRESHOLDS`) on the tuning set.

`python -m benchmarks.intents` from the repository root. The tuning set is
`benchmarks/intent_tuning/<kind>.txt` (one message per line; `none.txt` holds ordinary
customer questions and near misses), written apart from the example utterances and from the
test sets in `tests/data/intents/`, which are never used here. For each kind a grid search
picks the similarity floor and the margin over the nearest "none" example that minimise
missed messages of that kind plus false ones from every other file; a missed STOP weighs
more than a wrong withdrawal, and withdrawal's margin is at most 0 (when unsure between a
withdrawal and a question, withdraw). Paste the printed dictionary into `THRESHOLDS`.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from botkit.knowledge import load_knowledge
from botkit.policy.intents import KINDS, NEIGHBOURS, SMALL_TALK, THRESHOLDS, IntentMatcher, Threshold
from botkit.wiring import default_embedder

ROOT = Path(__file__).resolve().parent.parent
TUNING = ROOT / "benchmarks" / "intent_tuning"
SIMILARITIES = np.round(np.arange(0.30, 0.91, 0.01), 2)
MARGINS = np.round(np.arange(-0.15, 0.301, 0.01), 2)
# A missed STOP or a handed-over greeting costs more than a wrong one (1.0 for the others).
MISS_WEIGHT = {"withdrawal": 3.0, "greeting": 2.0, "thanks": 2.0, "ack": 2.0, "goodbye": 2.0}


def load_tuning() -> dict[str, list[str]]:
    """Messages per kind, from benchmarks/intent_tuning/."""
    return {path.stem: [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()] for path in sorted(TUNING.glob("*.txt"))}


def _related(kind: str, other: str) -> bool:
    """Confusing greeting with thanks costs nothing: both are small talk."""
    return kind == other or (kind in SMALL_TALK and other in SMALL_TALK)


def choose(kind: str, scored: Mapping[str, Sequence[dict[str, float]]]) -> tuple[Threshold, float, float]:
    """The best (threshold, recall, false rate) for one kind on the scored tuning messages."""
    positives = list(scored.get(kind, ()))
    negatives = [s for other, rows in scored.items() if not _related(kind, other) for s in rows]
    rivals = [k for k in KINDS if not _related(kind, k)]
    results = []
    for similarity in SIMILARITIES:
        for margin in MARGINS:
            if kind == "withdrawal" and margin > 0:
                continue  # when unsure between withdrawal and a question, withdraw (issue 12)
            threshold = Threshold(float(similarity), float(margin))
            recall = float(np.mean([_wins(kind, s, threshold, rivals) for s in positives]))
            false = float(np.mean([_wins(kind, s, threshold, rivals) for s in negatives]))
            loss = round(MISS_WEIGHT.get(kind, 1.0) * (1 - recall) + false, 6)
            results.append((loss, threshold, recall, false))
    lowest = min(r[0] for r in results)
    tied = [r for r in results if r[0] == lowest]
    # Of equally good thresholds take the middle one, not an edge of the region: new text varies.
    similarity = float(np.median([r[1].similarity for r in tied]))
    row = min(tied, key=lambda r: (abs(r[1].similarity - similarity), r[1].similarity))
    same = [r for r in tied if r[1].similarity == row[1].similarity]
    margin = float(np.median([r[1].margin for r in same]))
    _, threshold, recall, false = min(same, key=lambda r: (abs(r[1].margin - margin), r[1].margin))
    return threshold, recall, false


def _wins(kind: str, scores: Mapping[str, float], threshold: Threshold, rivals: Sequence[str]) -> bool:
    """Would `kind` be chosen for these scores (it passes and no other kind is more similar)?"""
    passes = scores[kind] >= threshold.similarity and scores[kind] - scores["none"] >= threshold.margin
    if kind == "withdrawal":  # a passing withdrawal beats small talk (`decide`)
        rivals = [r for r in rivals if r not in SMALL_TALK]
    return passes and scores[kind] >= max(scores[r] for r in rivals)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--neighbours", type=int, default=NEIGHBOURS, help="examples averaged per kind (default %(default)s)")
    parser.add_argument("--show", action="store_true", help="list the tuning messages the chosen thresholds get wrong")
    args = parser.parse_args()
    show, neighbours = args.show, args.neighbours
    tuning = load_tuning()
    bot_names = [load_knowledge(ROOT / "knowledge").client.bot_name]
    matcher = IntentMatcher(default_embedder(), bot_names=bot_names, neighbours=neighbours)
    scored: dict[str, list[dict[str, float]]] = {}
    by_rule = 0
    for kind, messages in tuning.items():
        for text in messages:
            scores = matcher.scores(text)
            if scores is None:
                by_rule += 1
            else:
                scored.setdefault(kind, []).append(scores)
    print(f"tuning messages: {sum(map(len, tuning.values()))} ({by_rule} decided by exact rules)")
    chosen: dict[str, Threshold] = {}
    for kind in KINDS:
        threshold, recall, false = choose(kind, scored)
        chosen[kind] = threshold
        print(f"{kind:15} similarity {threshold.similarity:.2f} margin {threshold.margin:+.2f}  recall {recall:.1%}  false {false:.1%}")
    tuned = IntentMatcher(default_embedder(), bot_names=bot_names, thresholds=chosen, neighbours=neighbours)
    print(f"\nwith these thresholds and {neighbours} neighbours, the whole matcher on the tuning set:")
    wrong = 0
    for kind, messages in tuning.items():
        got = [tuned.classify(t).kind for t in messages]
        right = [g == kind or (kind in SMALL_TALK and g in SMALL_TALK) for g in got]
        print(f"  {kind:15} {np.mean(right):.1%} of {len(messages)}")
        wrong += len(right) - sum(right)
        if show:
            for text, g, ok in zip(messages, got, right):
                if not ok:
                    print(f"      {text!r} -> {g}")
    print(f"  wrong: {wrong} of {sum(map(len, tuning.values()))}")
    print("\nTHRESHOLDS = {")
    for kind, t in chosen.items():
        print(f'    "{kind}": Threshold({t.similarity:.2f}, {t.margin:.2f}),')
    print("}")
    if dict(THRESHOLDS) != chosen:
        print("\n(botkit.policy.intents.THRESHOLDS differs: paste the dictionary above)")


if __name__ == "__main__":
    main()
