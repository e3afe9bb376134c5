"""The botkit wheel an export ships is built from the source tree alone, never from build output left in it."""

from __future__ import annotations

import shutil
import zipfile

from botkit.webhook.lock import build_wheel
from tests.conftest import ROOT

STALE = "botkit/stale_leftover.py"


def test_a_file_only_in_build_lib_never_reaches_the_wheel(tmp_path):
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, checkout / name)
    for folder in ("botkit", "knowledge"):
        shutil.copytree(ROOT / folder, checkout / folder, ignore=shutil.ignore_patterns("__pycache__", ".botkit*"))
    # what an earlier in-tree build left behind: a module since deleted from the source
    stale = checkout / "build" / "lib" / STALE
    stale.parent.mkdir(parents=True)
    stale.write_text("LEFT_OVER = True\n")
    before = sorted(p.relative_to(checkout) for p in checkout.rglob("*"))

    build_wheel(checkout, tmp_path / "wheels")

    [wheel] = (tmp_path / "wheels").glob("botkit-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "botkit/__init__.py" in names and "botkit/workbench/notebooks/01-import-and-check.ipynb" in names
    assert STALE not in names
    assert sorted(p.relative_to(checkout) for p in checkout.rglob("*")) == before  # no build/, no egg-info left behind
