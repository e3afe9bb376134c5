"""The README's Python examples run as written, in a temporary copy: they never touch the source tree."""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import pytest

from botkit import Bot
from tests.conftest import ROOT, SAMPLE

EXAMPLES = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), re.DOTALL)


def _fingerprint(folder: Path) -> dict[str, str]:
    """Every file below `folder` with a hash of its content, to check that nothing was written there."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def workdir(tmp_path, sample_index_dir) -> Path:
    """The files the examples name (knowledge/, evaluations/data/), copied; the sample index put where `open_bot` looks."""
    shutil.copytree(SAMPLE, tmp_path / "knowledge", ignore=shutil.ignore_patterns(".botkit*"))
    shutil.copytree(ROOT / "evaluations" / "data", tmp_path / "evaluations" / "data")
    shutil.copytree(sample_index_dir / "index", tmp_path / "knowledge" / ".botkit" / "index")  # already built: nothing to embed
    return tmp_path


def test_readme_has_python_examples():
    assert EXAMPLES


@pytest.mark.parametrize("code", EXAMPLES, ids=[f"example-{i}" for i in range(len(EXAMPLES))])
def test_readme_python_example_runs(code, workdir, monkeypatch, embedder):
    # in this process, so the embedder the session already loaded (`embedder`) is reused: a fresh
    # interpreter would spend most of the test loading it again
    before = {folder: _fingerprint(ROOT / folder) for folder in ("knowledge", "evaluations")}
    calibration = (ROOT / "calibration.json").read_bytes()
    monkeypatch.chdir(workdir)
    namespace: dict[str, object] = {"__name__": "__readme__"}
    try:
        exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102 - the README's own code
    finally:
        for value in namespace.values():
            if isinstance(value, Bot):
                value.close()
    assert {folder: _fingerprint(ROOT / folder) for folder in before} == before
    assert (ROOT / "calibration.json").read_bytes() == calibration
