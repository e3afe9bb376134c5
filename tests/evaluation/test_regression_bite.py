"""The regression notebooks bite: a changed knowledge answer makes `pytest --nbval` fail."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from tests.conftest import ROOT, SAMPLE

NOTEBOOK = "evaluate-sample.ipynb"
OLD = "Sie können Ihren Zählerstand online im Kundenportal"
NEW = "Bitte rufen Sie uns an, um Ihren Zählerstand im Kundenportal"


def test_changing_one_knowledge_answer_fails_the_notebook_regression(tmp_path):
    knowledge = tmp_path / "knowledge"
    shutil.copytree(SAMPLE, knowledge, ignore=shutil.ignore_patterns(".botkit*"))
    entries = knowledge / "zaehler.yaml"
    text = entries.read_text(encoding="utf-8")
    assert text.count(OLD) == 1, "the test edits the answer of zaehlerstand-melden"
    entries.write_text(text.replace(OLD, NEW), encoding="utf-8")
    evaluations = tmp_path / "evaluations"
    evaluations.mkdir()
    shutil.copy(ROOT / "evaluations" / NOTEBOOK, evaluations)
    shutil.copytree(ROOT / "evaluations" / "data", evaluations / "data")

    # Only the nbval plugin: the other installed pytest plugins (langsmith's, schemathesis', hypothesis') took
    # about 4 s of CPU to import and play no part in a notebook run.
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "nbval.plugin", "--nbval", "-p", "no:cacheprovider", "-vv", str(evaluations / NOTEBOOK)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
        env={**os.environ, "BOTKIT_KNOWLEDGE": str(knowledge), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
    )
    assert result.returncode == 1, result.stdout[-3000:]
    assert NEW in result.stdout, result.stdout[-3000:]  # the transcript cell shows the changed answer
