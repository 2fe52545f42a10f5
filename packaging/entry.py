"""Frozen-app entry point for PyInstaller (the console script does the same when installed)."""

from promptready.cli import main

raise SystemExit(main())
