"""Small talk, "are you human?", role-play and requests for a person, against the committed test sets.

The sets in tests/data/intents/ were written for these tests, apart from the example
utterances (botkit/policy/utterances.yaml) and from the tuning set on which the thresholds
were chosen (benchmarks/intent_tuning/, benchmarks/intents.py). Withdrawal (STOP) is measured
where it is decided, in tests/consent/test_intents.py.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest

from botkit.errors import ConfigError
from botkit.knowledge import load_knowledge
from botkit.policy.intents import SMALL_TALK, Intent, IntentMatcher, normalise
from botkit.textform import embedding_form
from tests.conftest import SAMPLE, SHARED_DATASETS

DATA = Path(__file__).resolve().parents[1] / "data" / "intents"
COVID = SHARED_DATASETS / "deepset-covid-faq-de"
BOT_NAMES = (load_knowledge(SAMPLE).client.bot_name,)


def lines(name: str) -> list[str]:
    """The messages of one test set, one a line."""
    return [line for line in (DATA / name).read_text(encoding="utf-8").splitlines() if line.strip()]


def rate(texts: Sequence[str], matcher: IntentMatcher, ok: Callable[[Intent], bool]) -> tuple[float, list[tuple[str, Intent]]]:
    """The share of texts whose intent is ok, and the others."""
    results = [(t, matcher.classify(t)) for t in texts]
    wrong = [(t, i) for t, i in results if not ok(i)]
    return 1 - len(wrong) / len(results), wrong


def report(name: str, share: float, size: int, wrong: Sequence[tuple[str, Intent]]) -> None:
    print(f"\n{name}: {share:.1%} of {size}")
    for text, intent in wrong:
        print(f"  {text!r} -> {intent.kind} ({intent.score:.2f}) rest={intent.rest!r}")


class CountingEmbedder:
    """The real embedder, counting calls."""

    def __init__(self, inner) -> None:
        self.inner, self.calls = inner, 0
        self.model_id, self.version = inner.model_id, inner.version

    def embed(self, texts):
        self.calls += 1
        return self.inner.embed(texts)


@pytest.fixture(scope="module")
def matcher(embedder) -> IntentMatcher:
    return IntentMatcher(embedder, bot_names=BOT_NAMES)


@pytest.fixture(scope="module")
def counted_matcher(embedder) -> tuple[IntentMatcher, CountingEmbedder]:
    """A matcher whose embedder counts its calls, shared by the exact-rule cases (embedding the examples takes 0.3 s).

    Each case's text differs; a text sent to the embedder by one case fails that case, so a
    cached answer cannot hide an embedder call from a later one.
    """
    counting = CountingEmbedder(embedder)
    return IntentMatcher(counting, bot_names=BOT_NAMES), counting


def test_test_sets_are_large_enough_and_apart_from_the_examples():
    from botkit.policy.intents import load_utterances

    examples = {normalise(t) for texts in load_utterances()["examples"].values() for t in texts}
    tuning = {normalise(line) for path in (DATA.parents[2] / "benchmarks" / "intent_tuning").glob("*.txt") for line in path.read_text("utf-8").splitlines()}
    sizes = {"smalltalk.txt": 150, "greeting_question.txt": 30, "bot_question.txt": 60, "person_request.txt": 60}
    for name, least in sizes.items():
        texts = [line.split("\t")[0] for line in lines(name)]
        assert len(texts) >= least, name
        assert len(set(texts)) == len(texts), f"{name} has duplicates"
        # Exact-rule lines ("ok", "/start") may coincide with an example; sentences may not.
        copied = [t for t in texts if len(t.split()) > 2 and normalise(t) in examples | tuning]
        assert not copied, f"{name} repeats example or tuning utterances: {copied}"


def test_small_talk_is_never_handed_over(matcher):
    texts = lines("smalltalk.txt")
    share, wrong = rate(texts, matcher, lambda i: i.kind in SMALL_TALK and not i.rest)
    report("small talk answered as small talk", share, len(texts), wrong)
    assert share == 1.0  # the target: 0 handovers


def test_greeting_then_question_keeps_the_question(matcher):
    pairs = [line.split("\t") for line in lines("greeting_question.txt")]
    share, wrong = rate([p[0] for p in pairs], matcher, lambda i: i.kind in SMALL_TALK)
    got = {text: matcher.classify(text).rest for text, _ in pairs}
    mismatched = [(text, want, got[text]) for text, want in pairs if got[text] != want]
    print(f"\ngreeting + question: {share:.1%} small talk with the right remainder {1 - len(mismatched) / len(pairs):.1%} of {len(pairs)}")
    for text, want, rest in mismatched:
        print(f"  {text!r}: want {want!r}, got {rest!r}")
    assert share == 1.0 and not mismatched


def test_are_you_human_and_role_play_get_the_disclosure(matcher):
    texts = lines("bot_question.txt")
    share, wrong = rate(texts, matcher, lambda i: i.kind == "bot_question")
    report("bot questions and role-play recognised", share, len(texts), wrong)
    assert share == 1.0


def test_requests_for_a_person_in_everyday_words_are_recognised(matcher):
    texts = lines("person_request.txt")
    share, wrong = rate(texts, matcher, lambda i: i.kind == "person_request")
    report("requests for a person recognised", share, len(texts), wrong)
    assert share >= 0.95


def genuine_questions() -> list[str]:
    """The sample knowledge base's questions and the German COVID FAQ set's user questions."""
    questions = [e.question for e in load_knowledge(SAMPLE).entries]
    with open(COVID / "eval_question_similarity_de.csv", newline="", encoding="utf-8") as handle:
        questions += [row["question_2"].strip() for row in csv.DictReader(handle)]
    return list(dict.fromkeys(q for q in questions if q))


def test_genuine_questions_are_rarely_taken_for_small_talk_a_person_or_a_bot_question(matcher):
    if not COVID.is_dir():
        pytest.skip(f"the German FAQ data set is not at {COVID} (see /work/shared/datasets)")
    texts = genuine_questions()
    taken = {"bot_question", "person_request"} | SMALL_TALK
    # A greeting with a remainder is answered from the remainder: only bare small talk counts.
    share, wrong = rate(texts, matcher, lambda i: not (i.kind in taken and not i.rest))
    report("genuine questions left to retrieval", share, len(texts), wrong)
    withdrawn = [t for t in texts if matcher.classify(t).kind == "withdrawal"]
    print(f"genuine questions read as withdrawal: {len(withdrawn) / len(texts):.1%} {withdrawn}")
    # No target in the issues; a few in a hundred would already make the bot greet or hand over
    # where it should answer, so more than 3 % fails.
    assert 1 - share <= 0.03
    assert len(withdrawn) / len(texts) <= 0.02


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("/start", "greeting"),
        ("/start ref_4711", "greeting"),
        ("/start@LinaBot", "greeting"),
        ("/help", "greeting"),
        ("?", "empty"),
        ("??!", "empty"),
        ("🤷", "empty"),
        ("...", "empty"),
        ("", "empty"),
        ("👋", "greeting"),
        ("👍", "ack"),
        ("🛑", "withdrawal"),
        ("STOP", "withdrawal"),
        ("Stop!!! Stop!!!", "withdrawal"),
        ("ＳＴＯＰ", "withdrawal"),
        ("S\u00adTOP", "withdrawal"),
        ("ST\u200bOP", "withdrawal"),
        ("Stopp alles", "withdrawal"),
        ("ABMELDEN bitte", "withdrawal"),
        ("unsubscribe", "withdrawal"),
        ("opt-out", "withdrawal"),
        ("Hallo Lina, STOP!", "withdrawal"),
        ("Hallo Lina 👋", "greeting"),
        ("Guten Morgen!!!", "greeting"),
    ],
)
def test_exact_rules_decide_without_the_embedder(counted_matcher, text, kind):
    matcher, counting = counted_matcher
    before = counting.calls
    assert matcher.classify(text) == Intent(kind, 1.0)
    assert counting.calls == before


def test_the_bots_own_name_is_part_of_a_greeting(embedder):
    tessa = IntentMatcher(embedder, bot_names=("Tessa",))
    assert tessa.classify("Hallo Tessa").kind == "greeting"
    assert tessa.classify("Hallo Tessa 👋, wie lese ich den Zähler ab?") == Intent("greeting", 1.0, rest="wie lese ich den Zähler ab?")


def test_a_message_costs_one_embedding_call_and_a_repeated_one_none(embedder):
    counting = CountingEmbedder(embedder)
    matcher = IntentMatcher(counting, bot_names=BOT_NAMES)
    start = counting.calls
    first = matcher.classify("Hallo Lina, wann kommt meine Jahresabrechnung?")
    assert counting.calls == start + 1
    assert matcher.classify("Hallo Lina, wann kommt meine Jahresabrechnung?") == first
    assert counting.calls == start + 1


class RecordingEmbedder(CountingEmbedder):
    """The real embedder, recording the texts of each call."""

    def __init__(self, inner) -> None:
        super().__init__(inner)
        self.batches: list[list[str]] = []

    def embed(self, texts):
        self.batches.append(list(texts))
        return super().embed(texts)


def test_a_question_is_embedded_once_in_the_retrievers_form_and_again_casefolded_only_near_a_kind(embedder):
    recording = RecordingEmbedder(embedder)
    matcher = IntentMatcher(recording, bot_names=BOT_NAMES)
    recording.batches.clear()
    assert matcher.classify("Wann  kommt meine Jahresabrechnung???").kind == "none"
    assert recording.batches == [[embedding_form("Wann  kommt meine Jahresabrechnung???")]] == [["Wann kommt meine Jahresabrechnung?"]]
    recording.batches.clear()
    matcher.classify("Ist der Vertrag kündbar?")  # near the withdrawal examples: a closer look, casefolded
    assert recording.batches == [["Ist der Vertrag kündbar?"], ["ist der vertrag kündbar?"]]


def test_embedding_form_keeps_case_and_is_its_own_form():
    for text in ("  Wie hoch ist\u00ad mein ＡＢＳＣＨＬＡＧ?!?!  ", "Dankeee!!! Tschüüüss", "Straße 1000"):
        form = embedding_form(text)
        assert embedding_form(form) == form
    assert embedding_form("Dankeee!!!   Tschüüüss") == "Danke! Tschüss"
    assert embedding_form("Wie hoch ist\u00ad mein ＡＢＳＣＨＬＡＧ??") == "Wie hoch ist mein ABSCHLAG?"
    assert embedding_form("Straße 1000") == "Straße 1000"


def test_extra_examples_are_added_and_unknown_kinds_refused(embedder):
    text = "Schluss mit dem Zirkus, nie wieder Post von euch"
    extended = IntentMatcher(embedder, examples={"withdrawal": [text]})
    assert extended.classify(text).kind == "withdrawal"
    with pytest.raises(ConfigError, match="unknown intent kind 'chitchat'"):
        IntentMatcher(embedder, examples={"chitchat": ["na?"]})


def test_a_remainder_keeps_its_numbers_and_only_stretched_greetings_shrink(matcher):
    intent = matcher.classify("Hiii Lina, warum kostet mein Abschlag jetzt 111 Euro?")
    assert intent == Intent("greeting", 1.0, rest="warum kostet mein Abschlag jetzt 111 Euro?")


def test_normalise_folds_width_format_characters_repeated_punctuation_and_case():
    assert normalise("ＳＴＯＰ") == "stop"
    assert normalise("S\u00adT\u200bOP") == "stop"
    assert normalise("  Stop!!!   Stop!!! ") == "stop! stop!"
    assert normalise("Was??? Echt?!?!") == "was? echt?!?!"
    assert normalise("Straße") == "strasse"


def test_scores_are_similarities_of_normalised_vectors(matcher):
    scores = matcher.scores("Wie hoch ist mein Abschlag?")
    assert scores is not None and set(scores) >= {"greeting", "withdrawal", "none"}
    assert all(-1.0 <= s <= 1.0 + 1e-6 for s in scores.values())
    assert scores["none"] == max(scores.values())
    assert matcher.scores("/start") is None
    assert np.isfinite(list(scores.values())).all()


def test_decide_lets_withdrawal_beat_small_talk_and_marks_close_calls_unsure():
    from botkit.policy.intents import KINDS, UNSURE_BAND, Threshold, decide

    even = {k: Threshold(0.5, 0.0) for k in KINDS}
    assert decide({"ack": 0.8, "withdrawal": 0.6, "none": 0.3}, even) == Intent("withdrawal", 0.6)
    close = decide({"withdrawal": 0.62, "none": 0.62 - UNSURE_BAND / 2}, even)
    assert close.kind == "withdrawal" and not close.sure
    assert decide({"withdrawal": 0.45, "none": 0.3}, even).kind == "none"
    assert decide({"person_request": 0.7, "bot_question": 0.6, "none": 0.2}, even).kind == "person_request"
