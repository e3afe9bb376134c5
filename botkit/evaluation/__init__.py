"""Measure a bot against hand-written test data, tune its threshold, and report.

Modules: `cases` (read test files), `runner` (run a bot over them), `metrics` (pure
numbers), `calibration` (tune and store the threshold), `report` (HTML and CSV), `formats`
(channel checks of sent messages). Import them directly; this package imports nothing so
that `botkit.defaults` can read calibrations without a cycle.
"""
