"""``python -m inbox_followup``: the same as the ``inbox-followup`` command."""

import sys

from inbox_followup.cli.main import main

sys.exit(main())
