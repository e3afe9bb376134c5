"""The consultant workbench: the logic behind the discovery-workshop notebooks in `notebooks/`.

Modules: `columns` (map a client's FAQ export to botkit fields), `overlap` (duplicates
and conflicts), `gaps` (unanswered real questions, grouped), `tradeoff` (the threshold in
plain words), `simulator` and `bubbles` (the in-notebook chat), `consent` (topic and
campaign previews), `charts`, `widgets` and `report` (the workshop report). Needs the
`notebooks` extra: `pip install 'botkit[notebooks]'`.
"""

from botkit.workbench.charts import coverage_table, plot_coverage, plot_lint
from botkit.workbench.columns import (
    IGNORE,
    ClientTable,
    MappedKnowledge,
    apply_mapping,
    guess_mapping,
    read_table,
    write_knowledge,
)
from botkit.workbench.consent import (
    consent_rows,
    preview_campaign,
    preview_opt_in,
    read_topics,
    topic_rows,
    write_topics,
)
from botkit.workbench.gaps import (
    AskedQuestion,
    Cluster,
    answerable_share,
    ask_all,
    candidate_entries,
    cluster_questions,
    cluster_rows,
    plot_answerable,
    question_rows,
    read_questions,
    unanswered,
    write_candidates,
)
from botkit.workbench.overlap import Overlap, find_overlaps
from botkit.workbench.report import (
    ExportCheck,
    GapFindings,
    ThresholdFindings,
    Workshop,
    open_decisions,
    write_report,
)
from botkit.workbench.simulator import ChatSimulator, channel_previews, transcripts
from botkit.workbench.tradeoff import (
    Tradeoff,
    describe,
    plot_tradeoff,
    tradeoff_at,
    tradeoff_curve,
    workshop_calibration,
)
from botkit.workbench.widgets import MappingEditor, ThresholdPicker

__all__ = [
    "AskedQuestion",
    "ChatSimulator",
    "ClientTable",
    "Cluster",
    "ExportCheck",
    "GapFindings",
    "IGNORE",
    "MappedKnowledge",
    "MappingEditor",
    "Overlap",
    "ThresholdFindings",
    "ThresholdPicker",
    "Tradeoff",
    "Workshop",
    "answerable_share",
    "apply_mapping",
    "ask_all",
    "candidate_entries",
    "channel_previews",
    "cluster_questions",
    "cluster_rows",
    "consent_rows",
    "coverage_table",
    "describe",
    "find_overlaps",
    "guess_mapping",
    "open_decisions",
    "plot_answerable",
    "plot_coverage",
    "plot_lint",
    "plot_tradeoff",
    "preview_campaign",
    "preview_opt_in",
    "question_rows",
    "read_questions",
    "read_table",
    "read_topics",
    "topic_rows",
    "tradeoff_at",
    "tradeoff_curve",
    "transcripts",
    "unanswered",
    "workshop_calibration",
    "write_candidates",
    "write_knowledge",
    "write_report",
    "write_topics",
]
