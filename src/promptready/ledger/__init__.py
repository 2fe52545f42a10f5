"""The local usage ledger: one SQLite row per call (popup, CLI, gateway), with rollups kept up to
date in the same transaction so summaries and budget checks never scan the rows."""
