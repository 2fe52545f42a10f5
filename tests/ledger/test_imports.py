"""The hot path stays light: the writer and the usage command never import SQLModel."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
import promptready.commands.usage, promptready.ledger.writer
print(sorted(m for m in ("sqlmodel", "sqlalchemy") if m in sys.modules))
"""


def test_the_writer_and_the_usage_command_do_not_import_sqlmodel() -> None:
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
