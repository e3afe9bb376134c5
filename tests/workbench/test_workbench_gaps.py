"""Real customer questions through the bot: answerable share, a miss told from a hole, coherent groups, candidate entries."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
import yaml

from botkit.errors import KnowledgeError
from botkit.knowledge import load_knowledge
from botkit.policy.escalation import Thresholds
from botkit.types import Decision
from botkit.workbench.gaps import (
    ANSWERED,
    HOLE,
    MISSED,
    RULE,
    AskedQuestion,
    Cluster,
    answerable_share,
    ask_all,
    candidate_entries,
    cluster_questions,
    describe_band,
    has_band,
    holes,
    miss_rows,
    misses,
    question_rows,
    read_questions,
    write_candidates,
)

ROOT = Path(__file__).resolve().parents[2]
CHAT_LOG = ROOT / "botkit" / "workbench" / "sample" / "chat-log-questions.csv"


class TableEmbedder:
    """Implements the Embedder protocol with fixed vectors per text, to pin down the clustering rule."""

    model_id = "table"
    version = "1"

    def __init__(self, vectors: dict[str, Sequence[float]]) -> None:
        self.vectors = vectors

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return np.asarray([self.vectors[t] for t in texts], dtype=np.float32)


def test_the_message_column_is_found_by_name(tmp_path):
    assert len(read_questions(CHAT_LOG)) == 61
    path = tmp_path / "mails.csv"
    path.write_text("Datum;Betreff;Kunde\n1.10.;Wann kommt Glasfaser?;Herr A\n2.10.;;Frau B\n", encoding="utf-8")
    assert read_questions(path) == ["Wann kommt Glasfaser?"]  # empty messages are skipped
    assert read_questions(path, column="Kunde") == ["Herr A", "Frau B"]


def test_a_file_without_a_message_column_lists_its_columns(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(KnowledgeError, match=r"name it .Nachricht. \(columns: a, b\)"):
        read_questions(path)
    with pytest.raises(KnowledgeError, match="has no column 'x'"):
        read_questions(path, column="x")
    single = tmp_path / "single.csv"
    single.write_text("Anliegen des Kunden\nWo ist das Freibad?\n", encoding="utf-8")
    assert read_questions(single) == ["Wo ist das Freibad?"]


def test_rule_answered_messages_do_not_count_and_asking_twice_starts_fresh_conversations(shared_bot):
    questions = ["Wie melde ich meinen Zählerstand?", "Wo kann ich Sperrmüll anmelden?", "Hallo", "Ich möchte mit einem Mitarbeiter sprechen"]
    first = ask_all(shared_bot, questions)
    assert [a.retrieved for a in first] == [True, True, False, False]
    assert first[0].decision == Decision.ANSWERED and first[0].entries == ("zaehlerstand-melden",)
    limits = shared_bot.limits
    assert answerable_share(first, limits.threshold) == 0.5
    assert [a.status(limits) for a in first][2:] == [RULE, RULE]
    unanswered = [*holes(first, limits), *(a.question for a in misses(first, limits))]
    assert unanswered == ["Wo kann ich Sperrmüll anmelden?"]
    assert first[1].nearest is not None  # the nearest entry is named either way
    again = ask_all(shared_bot, questions)  # a reused conversation would be with a person now and stay silent
    assert [a.decision for a in again] == [a.decision for a in first]


def test_answerable_share_follows_the_threshold():
    asked = [AskedQuestion(q, Decision.ANSWERED, "confident", c, (), True) for q, c in (("a", 0.3), ("b", 0.6), ("c", 0.9))]
    assert [answerable_share(asked, t) for t in (0.0, 0.5, 0.7, 0.95)] == [1.0, 2 / 3, 1 / 3, 0.0]
    assert answerable_share([], 0.5) is None


def test_a_miss_is_told_from_a_hole_by_the_clients_calibration():
    limits = Thresholds(threshold=0.6, clarify_margin=0.05, max_misses=2, suggest_threshold=0.4)
    asked = [
        AskedQuestion("answered", Decision.ANSWERED, "confident", 0.6, ("a",), True, "a"),
        AskedQuestion("offered", Decision.CLARIFY, "uncertain", 0.45, (), True, "b"),
        AskedQuestion("at the band", Decision.CLARIFY, "uncertain", 0.4, (), True, "c"),
        AskedQuestion("far", Decision.HANDOVER, "low_confidence", 0.39, (), True, "d"),
        AskedQuestion("hello", Decision.ANSWERED, "greeting", 1.0, (), False),
    ]
    assert [a.status(limits) for a in asked] == [ANSWERED, MISSED, MISSED, HOLE, RULE]
    assert holes(asked, limits) == ["far"]
    assert miss_rows(asked, limits, {"b": "Wie buche ich?"})[0] == {
        "question": "offered",
        "nearest entry": "b",
        "entry question": "Wie buche ich?",
        "score": 0.45,
    }
    rows = question_rows(asked, limits, {"b": "Wie buche ich?"})
    assert [r["status"] for r in rows] == [ANSWERED, MISSED, MISSED, HOLE, RULE] and rows[1]["nearest entry"] == "b: Wie buche ich?"
    for no_band in (Thresholds(0.6, 0.05, 2), Thresholds(0.6, 0.05, 2, suggest_threshold=0.62)):
        assert [a.status(no_band) for a in asked[1:4]] == [HOLE, HOLE, HOLE]  # one threshold: no band, no misses
        assert not has_band(no_band) and "cannot tell a miss from a hole" in describe_band(no_band)
    assert has_band(limits) and describe_band(limits).startswith("Questions scoring from 0.40 up to the threshold 0.60")


def test_a_question_closer_to_another_group_leaves_its_group():
    # Average linkage groups 0.7, 1.3 and 1.8, but 1.8 is closer on average to 2.4 and 2.6 than to its own
    # group, and 1.3 then closer to 1.8 than to 0.7: the coherent groups are {1.3, 1.8} and {2.4, 2.6}.
    angle = {"p": 0.7, "q": 1.3, "r": 1.8, "s": 2.4, "t": 2.6}
    embedder = TableEmbedder({k: (np.cos(v), np.sin(v)) for k, v in angle.items()})
    clusters = cluster_questions(list(angle), embedder, min_similarity=0.6)
    assert sorted(sorted(c.questions) for c in clusters) == [["p"], ["q", "r"], ["s", "t"]]
    for c in clusters:
        if c.size > 1:
            assert c.cohesion >= 0.6


def test_average_linkage_keeps_a_chain_apart_and_names_groups_by_their_most_central_question():
    # a-b and b-c are close, a-c is not: single linkage would chain all three, average linkage does not.
    angle = {"a": 0.0, "b": 0.7, "c": 1.5, "d": 3.0}
    embedder = TableEmbedder({k: (np.cos(v), np.sin(v)) for k, v in angle.items()})
    clusters = cluster_questions(["a", "b", "c", "d", "a "], embedder, min_similarity=0.6)
    assert [c.questions for c in clusters] == [("a", "b"), ("c",), ("d",)]  # duplicates after stripping count once
    assert clusters[0].cohesion == pytest.approx(np.cos(0.7), abs=1e-4)
    middle = TableEmbedder({k: (np.cos(v), np.sin(v)) for k, v in {"x": 0.0, "y": 0.3, "z": 0.6}.items()})
    [group] = cluster_questions(["x", "z", "y"], middle, min_similarity=0.5)
    assert group.label == "y"


def test_real_questions_about_the_same_missing_topic_are_grouped(embedder):
    swimming = ["Wann hat das Hallenbad geöffnet?", "Öffnungszeiten Freibad?", "When is the swimming pool open?", "Ist das Schwimmbad am Sonntag offen?"]
    fibre = ["Bietet ihr auch Internet über Glasfaser an?", "Wie schnell ist euer Glasfaserinternet?"]
    clusters = cluster_questions([swimming[0], fibre[0], "Wo kann ich Sperrmüll anmelden?", *swimming[1:], fibre[1]], embedder)
    assert [sorted(c.questions) for c in clusters] == [sorted(swimming), sorted(fibre), ["Wo kann ich Sperrmüll anmelden?"]]
    assert clusters[0].label in swimming and 0.5 <= clusters[0].cohesion < 1.0


def test_candidate_entries_become_a_valid_knowledge_file_once_answered(tmp_path):
    clusters = [
        Cluster("Wann hat das Hallenbad geöffnet?", ("Wann hat das Hallenbad geöffnet?", "Öffnungszeiten Freibad?"), 0.65),
        Cluster("Wann hat das Hallenbad geöffnet", ("Wann hat das Hallenbad geöffnet", "Hallenbad Zeiten?"), 0.6),
        Cluster("Wo kann ich Sperrmüll anmelden?", ("Wo kann ich Sperrmüll anmelden?",), 1.0),
    ]
    drafts = candidate_entries(clusters, min_size=2)
    assert [d["id"] for d in drafts] == ["neu-wann-hat-das-hallenbad-geoeffnet", "neu-wann-hat-das-hallenbad-geoeffnet-2"]
    assert drafts[0]["paraphrases"] == ["Öffnungszeiten Freibad?"] and drafts[0]["answer"] == ""
    path = write_candidates(clusters, tmp_path / "review" / "candidates.yaml", topic="baeder")
    with pytest.raises(KnowledgeError, match="'answer' is empty"):
        load_knowledge(path)
    answered = [{**d, "answer": "Mo–So 7–20 Uhr."} for d in yaml.safe_load(path.read_text(encoding="utf-8"))]
    path.write_text(yaml.safe_dump(answered, allow_unicode=True), encoding="utf-8")
    assert [e.topic for e in load_knowledge(path).entries] == ["baeder", "baeder"]
