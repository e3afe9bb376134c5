"""Measure a bot against hand-written test data, tune its threshold, and report.

Modules: `cases` (read test files), `runner` (run a bot over them), `metrics` (pure
numbers), `tuning` (choose the threshold; `botkit.calibration` stores it), `report` (HTML
and CSV). Sent messages are checked by `botkit.channels.limits`. Import them directly.
"""
