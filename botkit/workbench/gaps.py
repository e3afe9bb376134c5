"""Find what the knowledge base is missing: run real customer questions, tell a miss from a hole, group the holes.

Each question is asked as the first message of a new conversation, as in `botkit eval`.
One calibration, the client's, decides everything (`Thresholds` of the bot): a question is
*answered* when its confidence reaches the threshold (whether rightly, notebook 4 measures on
labelled cases); *covered but missed* when it falls in the uncertain band below it (from
`suggest_threshold`, tuned on the client's cases so that few out-of-scope questions land
there): the bot offers the nearest entry, which likely answers it, so the fix is a new
phrasing of that entry; *not in the FAQ* below the band. Only those holes are grouped by
meaning (average linkage on cosine similarity, then every group checked for coherence), and
each group is named by its most central question: a candidate for a new FAQ entry.
"""

from __future__ import annotations

import csv
import io
import logging
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from matplotlib.figure import Figure

from botkit.bot import Bot
from botkit.errors import KnowledgeError, Problem
from botkit.grouping import average_linkage
from botkit.policy.escalation import Thresholds
from botkit.protocols import Embedder
from botkit.tabular import SPREADSHEET_DELIMITERS, sniff_delimiter
from botkit.textfile import read_text_file
from botkit.types import Decision
from botkit.workbench.charts import new_figure
from botkit.workbench.text import normalize_name, slugify, unique_id

log = logging.getLogger(__name__)

ANSWERED = "answered"
MISSED = "covered but missed"
HOLE = "not in the FAQ"
RULE = "answered by a rule"  # greeting, "are you a bot?", a request for a person

# Normalised names of the column that holds the customer's message, best first.
TEXT_COLUMNS = ("nachricht", "frage", "question", "message", "text", "anfrage", "betreff", "subject", "body", "inhalt")


@dataclass(frozen=True)
class AskedQuestion:
    """What the bot did with one real customer question."""

    question: str
    decision: Decision
    reason: str
    confidence: float
    entries: tuple[str, ...]
    retrieved: bool  # False when a rule answered (greeting, "are you a bot?", a request for a person)
    nearest: str | None = None  # the best-matching entry, answered from or not

    def answerable(self, threshold: float) -> bool:
        """Would the bot answer it from the knowledge base at this threshold?"""
        return self.retrieved and self.confidence >= threshold

    def status(self, limits: Thresholds) -> str:
        """`ANSWERED`, `MISSED` (in the uncertain band: the nearest entry likely covers it), `HOLE` or `RULE`."""
        if not self.retrieved:
            return RULE
        if self.confidence >= limits.threshold:
            return ANSWERED
        band = limits.suggest_threshold
        return MISSED if band is not None and self.nearest and band <= self.confidence else HOLE


@dataclass(frozen=True)
class Cluster:
    """Unanswered questions that mean about the same; `label` is the most central one."""

    label: str
    questions: tuple[str, ...]  # the label first, then by closeness to the others
    cohesion: float  # mean pairwise cosine similarity (1.0 for a single question)

    @property
    def size(self) -> int:
        return len(self.questions)


def read_questions(path: str | Path, column: str | None = None) -> list[str]:
    """The customer messages of a CSV export of chat logs or e-mails, in file order.

    Without `column`, the first column named like a message ("Nachricht", "Frage",
    "question", "text", ...) is used, else the only column. Empty cells are skipped.
    """
    path = Path(path)
    if not path.exists():
        raise KnowledgeError([Problem(str(path), None, None, "does not exist; export the questions as CSV")])
    read = read_text_file(path, name=path.name)
    if read.notice:
        log.warning(read.notice)
    text = read.text
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text, SPREADSHEET_DELIMITERS))
    header = [h.strip() for h in next(reader, [])]
    index = _text_column(header, column, path.name)
    return [row[index].strip() for row in reader if len(row) > index and row[index].strip()]


def ask_all(bot: Bot, questions: Sequence[str], *, channel: str = "web") -> list[AskedQuestion]:
    """Ask every question as a new conversation and record decision and confidence."""
    run = uuid.uuid4().hex[:8]  # fresh conversations even when called twice on one bot
    asked = []
    for i, question in enumerate(questions):
        reply = bot.reply(f"gaps-{run}-{i}", question, channel)
        asked.append(
            AskedQuestion(
                question=question,
                decision=reply.decision,
                reason=reply.reason,
                confidence=reply.confidence,
                entries=reply.entries,
                retrieved=reply.retrieval is not None,
                nearest=reply.retrieval.top.entry_id if reply.retrieval and reply.retrieval.top else None,
            )
        )
    return asked


def answerable_share(asked: Sequence[AskedQuestion], threshold: float) -> float | None:
    """Share of the questions that reached retrieval that the bot would answer at `threshold`."""
    retrieved = [a for a in asked if a.retrieved]
    if not retrieved:
        return None
    return sum(a.answerable(threshold) for a in retrieved) / len(retrieved)


def holes(asked: Sequence[AskedQuestion], limits: Thresholds) -> list[str]:
    """The questions no entry covers (below the uncertain band): candidates for new entries."""
    return [a.question for a in asked if a.status(limits) == HOLE]


def misses(asked: Sequence[AskedQuestion], limits: Thresholds) -> list[AskedQuestion]:
    """The questions an entry likely covers but the bot did not answer: new phrasings for their nearest entry."""
    return [a for a in asked if a.status(limits) == MISSED]


def question_rows(asked: Iterable[AskedQuestion], limits: Thresholds, questions: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """One table row per question: what the bot does at the client's threshold, the nearest entry and its score.

    Args:
        questions: entry id -> its question, to show the nearest entry by name.
    """
    names = questions or {}
    return [
        {
            "question": a.question,
            "status": a.status(limits),
            "decision": a.decision.value,
            "confidence": round(a.confidence, 3),
            "nearest entry": f"{a.nearest}: {names[a.nearest]}" if a.nearest is not None and a.nearest in names else (a.nearest or ""),
        }
        for a in asked
    ]


def has_band(limits: Thresholds) -> bool:
    """True when the calibration has an uncertain band below the threshold, so a miss can be told from a hole."""
    return limits.suggest_threshold is not None and limits.suggest_threshold < limits.threshold


def describe_band(limits: Thresholds) -> str:
    """How misses are told from holes at these limits, in one sentence (English, for the notebook)."""
    if has_band(limits):
        return (
            f"Questions scoring from {limits.suggest_threshold:.2f} up to the threshold {limits.threshold:.2f} are offered the "
            "nearest entries by the bot: they count as covered but missed; lower ones as not in the FAQ."
        )
    return (
        f"The calibration has no uncertain band below the threshold {limits.threshold:.2f}, so its score cannot tell a miss "
        "from a hole: every unanswered question counts as not in the FAQ; check the nearest entry shown with each."
    )


def miss_rows(asked: Sequence[AskedQuestion], limits: Thresholds, questions: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """The covered-but-missed questions: the question, its nearest entry and the score it reached."""
    names = questions or {}
    return [
        {"question": a.question, "nearest entry": a.nearest, "entry question": names.get(a.nearest or "", ""), "score": round(a.confidence, 3)}
        for a in misses(asked, limits)
    ]


def cluster_rows(clusters: Iterable[Cluster]) -> list[dict[str, Any]]:
    """One table row per group: size, candidate question, the other questions, cohesion."""
    return [{"questions": c.size, "candidate entry": c.label, "also asked as": " | ".join(c.questions[1:]), "cohesion": c.cohesion} for c in clusters]


def cluster_questions(questions: Sequence[str], embedder: Embedder, *, min_similarity: float = 0.5) -> list[Cluster]:
    """Group questions by meaning; biggest groups first, single questions last.

    Average linkage: two groups merge while the mean similarity between their questions
    is at least `min_similarity`. Higher values give smaller, tighter groups. Then every group
    must be coherent: its mean pairwise similarity at least `min_similarity` and higher than
    to any other group, and each question on average closer to its own group than to any
    other. A group that is not loses its least fitting question (it becomes a single) until it is.
    """
    texts = list(dict.fromkeys(q.strip() for q in questions if q.strip()))
    if not texts:
        return []
    vectors = np.asarray(embedder.embed(texts), dtype=np.float64)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True).clip(min=1e-12)
    similarity = vectors @ vectors.T
    groups = _coherent(average_linkage(similarity, min_similarity), similarity, min_similarity)
    clusters = [_cluster([texts[i] for i in g], similarity[np.ix_(g, g)]) for g in groups]
    return sorted(clusters, key=lambda c: (-c.size, -c.cohesion, c.label))


def candidate_entries(clusters: Sequence[Cluster], *, min_size: int = 2, topic: str = "neu", lang: str = "de") -> list[dict[str, Any]]:
    """Draft FAQ entries for groups of at least `min_size` questions, answer left empty to write."""
    drafts = []
    used: set[str] = set()
    for cluster in clusters:
        if cluster.size < min_size:
            continue
        entry_id = unique_id(f"neu-{slugify(' '.join(cluster.label.split()[:5]))}", used)
        used.add(entry_id)
        drafts.append(
            {
                "id": entry_id,
                "question": cluster.label,
                "paraphrases": list(cluster.questions[1:]),
                "answer": "",
                "topic": topic,
                "scope": "service",
                "lang": lang,
            }
        )
    return drafts


def write_candidates(clusters: Sequence[Cluster], path: str | Path, **options: Any) -> Path:
    """Write `candidate_entries` as a YAML review file; the client writes the answers.

    The file is not a valid knowledge file until every `answer` is filled in, so it
    belongs next to the knowledge base (or in its hidden `.review/` folder), not in it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    header = (
        "# Candidate FAQ entries from unanswered customer questions (botkit workbench).\n"
        "# Write each answer, check topic and language, then move the entry into the knowledge base.\n"
    )
    body = yaml.safe_dump(candidate_entries(clusters, **options), allow_unicode=True, sort_keys=False, width=100)
    path.write_text(header + body.replace("\n- id:", "\n\n- id:"), encoding="utf-8")
    return path


def plot_answerable(asked: Sequence[AskedQuestion], threshold: float | None = None) -> Figure:
    """Share of questions the bot would answer against the threshold."""
    fig, ax = new_figure()
    xs = np.linspace(0, 1, 201)
    ax.plot(xs, [answerable_share(asked, float(x)) or 0.0 for x in xs], label="answered by the bot")
    if threshold is not None:
        share = answerable_share(asked, threshold) or 0.0
        ax.axvline(threshold, color="black", linestyle=":", label=f"threshold {threshold:.2f}: {share:.0%} answered")
    ax.set(xlabel="threshold", ylabel="share of questions", title="Questions the bot would answer", xlim=(0, 1), ylim=(0, 1.02))
    ax.legend(loc="lower left")
    return fig


def message_column(header: Sequence[str]) -> int | None:
    """The position of the column that holds customer messages, or None.

    A column named like a message ("Nachricht", "Frage", "question", ...) wins, then one whose
    name contains such a word ("Kundennachricht"), then the only column.
    """
    names = [normalize_name(h) for h in header]
    for wanted in TEXT_COLUMNS:
        if wanted in names:
            return names.index(wanted)
    for wanted in TEXT_COLUMNS:
        for i, name in enumerate(names):
            if len(wanted) >= 4 and wanted in name:
                return i
    return 0 if len(header) == 1 else None


def _text_column(header: list[str], column: str | None, name: str) -> int:
    if column is not None:
        if column not in header:
            raise KnowledgeError([Problem(name, 1, None, f"has no column {column!r}; columns: {', '.join(header)}")])
        return header.index(column)
    index = message_column(header)
    if index is None:
        raise KnowledgeError([Problem(name, 1, None, f"no column looks like the customer's message; name it 'Nachricht' (columns: {', '.join(header)})")])
    return index


def _coherent(groups: list[list[int]], similarity: np.ndarray, min_similarity: float, *, regroup: bool = True) -> list[list[int]]:
    """`groups` with the least fitting question taken out of each incoherent group until none is left.

    The questions taken out are grouped once more among themselves (and checked the same way),
    so two that left one group together can still form their own.
    """
    groups = [list(g) for g in groups]
    taken: list[int] = []
    while (weakest := _weakest_member(groups, similarity, min_similarity)) is not None:
        g, i = weakest
        groups[g].remove(i)
        groups.append([i])
        taken.append(i)
    if regroup and taken:
        kept = [g for g in groups if len(g) > 1 or g[0] not in taken]
        again = average_linkage(similarity[np.ix_(taken, taken)], min_similarity)
        return _coherent([*kept, *([taken[i] for i in g] for g in again)], similarity, min_similarity, regroup=False)
    return [sorted(g) for g in groups]


def _weakest_member(groups: list[list[int]], similarity: np.ndarray, min_similarity: float) -> tuple[int, int] | None:
    """(group, question) to take out of the first incoherent group, None when all groups are coherent."""
    n, k = len(similarity), len(groups)
    member = np.zeros((n, k))
    for g, items in enumerate(groups):
        member[items, g] = 1.0
    sizes = member.sum(axis=0)
    to_group = similarity @ member / sizes  # mean similarity of each question to each group (itself included)
    between = member.T @ to_group  # summed over a group's questions
    for g, items in enumerate(groups):
        size = len(items)
        if size < 2:
            continue
        own = (to_group[items, g] * size - 1.0) / (size - 1)  # mean similarity to the other members
        others = np.delete(to_group[items], g, axis=1)
        closest_other = others.max(axis=1) if others.size else np.full(size, -np.inf)
        cohesion = float(own.mean())
        separation = float(np.delete(between[g], g).max() / size) if k > 1 else -np.inf
        if cohesion < min_similarity or cohesion <= separation or bool((own <= closest_other).any()):
            return g, items[int(np.argmin(own - closest_other))]
    return None


def _cluster(texts: list[str], similarity: np.ndarray) -> Cluster:
    if len(texts) == 1:
        return Cluster(texts[0], (texts[0],), 1.0)
    closeness = (similarity.sum(axis=1) - 1.0) / (len(texts) - 1)  # mean similarity to the others
    order = sorted(range(len(texts)), key=lambda i: (-closeness[i], texts[i]))
    pairs = similarity[np.triu_indices(len(texts), k=1)]
    return Cluster(texts[order[0]], tuple(texts[i] for i in order), round(float(pairs.mean()), 4))
