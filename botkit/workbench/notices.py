"""Expected problems in a notebook cell as a short message with what to do, never a traceback.

`show_problems_briefly()` (the notebooks call it in their set-up cell) makes IPython show a
`BotkitError` as a boxed message; the cell still counts as failed, so *Run All* stops there and
a headless run still fails. Unexpected errors (bugs) keep their traceback.
"""

from __future__ import annotations

import html
from types import TracebackType
from typing import Any

from IPython import get_ipython
from IPython.display import HTML, display

from botkit.errors import BotkitError


def problem_html(error: BaseException) -> str:
    """The error's message in a box: what failed, where, and what to do next."""
    lines = str(error).splitlines() or [type(error).__name__]
    head, rest = html.escape(lines[0]), "".join(f"<li>{html.escape(line.strip())}</li>" for line in lines[1:] if line.strip())
    return (
        "<div style='border-left:4px solid #b45309;background:#fffbeb;padding:8px 12px;font-family:system-ui,sans-serif'>"
        f"<b>Please check:</b> {head}{f'<ul style=margin:4px 0>{rest}</ul>' if rest else ''}</div>"
    )


def show_problems_briefly() -> None:
    """Show botkit's expected problems as `problem_html` in this IPython session (no-op outside IPython)."""
    shell = get_ipython()
    if shell is not None:
        shell.set_custom_exc((BotkitError,), _show)


def _show(shell: Any, etype: type[BaseException], value: BaseException, tb: TracebackType | None, tb_offset: int | None = None) -> None:
    display(HTML(problem_html(value)))  # type: ignore[no-untyped-call]  # IPython.display is untyped
