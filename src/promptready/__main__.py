"""Allow ``python -m promptready``."""

from promptready.cli import main

raise SystemExit(main())
