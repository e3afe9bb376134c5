"""botkit's benchmarks: Banking77 intents with unknowns, the German COVID FAQ, and speed.

Run them with `python -m benchmarks.run` (see benchmarks/README.md); they are not part of `pytest`.
"""
