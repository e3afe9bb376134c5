"""Expected problems in a notebook: a short message with what to do, not a traceback."""

from __future__ import annotations

from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from botkit.errors import ConfigError, KnowledgeError, Problem
from botkit.workbench.notices import problem_html, show_problems_briefly


def test_a_problem_is_a_short_boxed_message_with_every_line():
    page = problem_html(KnowledgeError([Problem("faq.xlsx", 7, "answer", "is empty"), Problem("faq.xlsx", 9, None, "<b>")]))
    assert "Please check:" in page and "faq.xlsx:7: &#x27;answer&#x27; is empty" in page and "&lt;b&gt;" in page
    assert "Traceback" not in page


def test_in_ipython_a_botkit_error_shows_the_message_and_the_cell_still_fails():
    shell = InteractiveShell.instance()
    try:
        show_problems_briefly()
        with capture_output() as shown:
            result = shell.run_cell("from botkit.errors import ConfigError\nraise ConfigError('no FAQ export in inputs/; copy it there')")
        assert isinstance(result.error_in_exec, ConfigError)  # Run All stops here, a headless run fails
        [html] = [o.data["text/html"] for o in shown.outputs]
        assert "no FAQ export in inputs/" in html and "Traceback" not in shown.stdout + shown.stderr
        with capture_output() as bug:
            other = shell.run_cell("1/0")  # a bug keeps its traceback
        assert isinstance(other.error_in_exec, ZeroDivisionError) and "ZeroDivisionError" in bug.stdout + bug.stderr
    finally:
        InteractiveShell.clear_instance()
