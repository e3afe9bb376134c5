"""`python -m botkit ARGS` in this process: the same entry point, without a second interpreter and model load."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from unittest.mock import patch

from typer.testing import CliRunner

from botkit.cli import main


@dataclass(frozen=True)
class Ran:
    returncode: int
    stdout: str
    stderr: str


def run_main(*args: str, env: dict[str, str] | None = None) -> Ran:
    """Run `botkit.cli.main` (which turns botkit errors into a message and exit status 1) with `args`.

    `env` is the only BOTKIT_* settings the command sees; any other exception than SystemExit propagates.
    """
    unset: dict[str, str | None] = {k: None for k in os.environ if k.startswith("BOTKIT_")}
    with CliRunner().isolation(env={**unset, **(env or {})}) as (stdout, stderr, _), patch.object(sys, "argv", ["botkit", *args]):
        try:
            main()
        except SystemExit as exc:
            code = exc.code
        else:
            code = 0
        ran = Ran(code if isinstance(code, int) else 1, stdout.getvalue().decode(), stderr.getvalue().decode())
    assert isinstance(code, int), code
    return ran
