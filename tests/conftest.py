"""Settings for the whole suite.

Under CI (``CI=true``, as ``.ci/run`` is run) hypothesis is derandomized: every run draws the
same examples, so a red CI means a change broke something, never an unlucky draw. Local runs
keep drawing new examples, which is how they find what CI's fixed ones cannot.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
