"""``python -m inbox_followup``: the same as the ``inbox-followup`` command."""

import sys

from .cli import main

sys.exit(main())
