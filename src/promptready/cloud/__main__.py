"""``python -m promptready.cloud``: the same as the ``promptready-cloud`` console script."""

import sys

from promptready.cloud.cli import main

sys.exit(main())
