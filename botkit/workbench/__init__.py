"""The consultant workbench: the logic behind the seven discovery-workshop notebooks.

`botkit workshop new DIR` makes a workshop folder (`folder.Workshop`) with the notebooks from
`botkit/workbench/notebooks/`; every notebook starts from `Workshop.open(WORKSHOP)`.
Modules: `folder` (the workshop folder and `workshop.yaml`), `session` (a notebook's bot on
it, the import), `fixes` (fix a wrong answer and re-test), `script` (scripted chats and
consent topics from the client's own data), `columns` (map a client's FAQ export to botkit fields), `overlap` (duplicates
and conflicts), `gaps` (real questions: answered, covered but missed, or not in the FAQ; the holes grouped), `tradeoff` (the threshold in
plain words), `holdout` (tune on some cases, report on the others), `simulator` and `bubbles` (the in-notebook chat), `consent` (topic and
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
from botkit.workbench.fixes import add_paraphrase, new_entry, save_case
from botkit.workbench.folder import ClientDetails, ImportChoices, SavedMapping, Workshop
from botkit.workbench.gaps import (
    AskedQuestion,
    Cluster,
    answerable_share,
    ask_all,
    candidate_entries,
    cluster_questions,
    cluster_rows,
    describe_band,
    holes,
    miss_rows,
    misses,
    plot_answerable,
    question_rows,
    read_questions,
    write_candidates,
)
from botkit.workbench.holdout import CaseSplit, split_cases
from botkit.workbench.notices import problem_html, show_problems_briefly
from botkit.workbench.offers import OfferFinding, find_offers, offer_rows
from botkit.workbench.overlap import Overlap, find_overlaps, overlap_rows, resolve_overlaps
from botkit.workbench.report import (
    ExportCheck,
    Findings,
    GapFindings,
    ThresholdFindings,
    open_decisions,
    write_report,
)
from botkit.workbench.script import (
    ConsentScript,
    Example,
    another_question,
    consent_script,
    example_conversations,
    person_text,
    propose_topics,
    scripted_start,
    user_text,
)
from botkit.workbench.session import Session, export_workshop, import_faq, topic_labels, workshop_cases
from botkit.workbench.simulator import ChatSimulator, channel_previews, queue_html, transcripts
from botkit.workbench.tradeoff import (
    Tradeoff,
    describe,
    plot_tradeoff,
    tradeoff_at,
    tradeoff_curve,
    workshop_calibration,
)
from botkit.workbench.widgets import ClientForm, ImportReview, MappingEditor, ThresholdPicker

__all__ = [
    "AskedQuestion",
    "CaseSplit",
    "ChatSimulator",
    "ClientDetails",
    "ClientForm",
    "ClientTable",
    "Cluster",
    "ConsentScript",
    "Example",
    "ExportCheck",
    "Findings",
    "GapFindings",
    "IGNORE",
    "ImportChoices",
    "ImportReview",
    "MappedKnowledge",
    "MappingEditor",
    "OfferFinding",
    "Overlap",
    "SavedMapping",
    "Session",
    "ThresholdFindings",
    "ThresholdPicker",
    "Tradeoff",
    "Workshop",
    "add_paraphrase",
    "another_question",
    "answerable_share",
    "apply_mapping",
    "ask_all",
    "candidate_entries",
    "channel_previews",
    "cluster_questions",
    "cluster_rows",
    "consent_rows",
    "consent_script",
    "coverage_table",
    "describe",
    "describe_band",
    "example_conversations",
    "export_workshop",
    "find_offers",
    "find_overlaps",
    "guess_mapping",
    "holes",
    "import_faq",
    "miss_rows",
    "misses",
    "new_entry",
    "offer_rows",
    "open_decisions",
    "overlap_rows",
    "person_text",
    "plot_answerable",
    "plot_coverage",
    "plot_lint",
    "plot_tradeoff",
    "preview_campaign",
    "preview_opt_in",
    "problem_html",
    "propose_topics",
    "question_rows",
    "queue_html",
    "read_questions",
    "read_table",
    "read_topics",
    "resolve_overlaps",
    "save_case",
    "scripted_start",
    "show_problems_briefly",
    "split_cases",
    "topic_labels",
    "topic_rows",
    "tradeoff_at",
    "tradeoff_curve",
    "transcripts",
    "user_text",
    "workshop_calibration",
    "workshop_cases",
    "write_candidates",
    "write_knowledge",
    "write_report",
    "write_topics",
]
