"""The usage window: this month's spend, charts and the last calls, read from the ledger."""
