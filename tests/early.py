"""A pytest plugin loaded before every other (`-p tests.early` in pyproject's addopts).

nbval's plugin imports nbformat, which imports jsonschema, which compiles an RFC 3987 Earley
grammar at import where rfc3987-syntax is installed (JupyterLab brings it): about 1 s of CPU in
each of the suite's pytest processes. No test validates IRIs; without the module jsonschema
leaves out its "iri" format checks, as `botkit.providers.chroma` arranges for botkit's own processes.
"""

import sys

if "jsonschema" not in sys.modules:
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
