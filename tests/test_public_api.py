"""The package's public surface: sorted `__all__`, nothing missing."""

from __future__ import annotations

import inspect

import pytest

import botkit
from botkit import errors, types
from botkit.config import Settings
from botkit.errors import ConfigError


def test_all_is_sorted_and_importable():
    assert botkit.__all__ == sorted(botkit.__all__)
    for name in botkit.__all__:
        assert getattr(botkit, name) is not None


@pytest.mark.parametrize("module", [errors, types])
def test_every_public_class_of_errors_and_types_is_exported(module):
    public = {
        name
        for name, obj in vars(module).items()
        if inspect.isclass(obj) and obj.__module__ == module.__name__ and not name.startswith("_")
    }
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
