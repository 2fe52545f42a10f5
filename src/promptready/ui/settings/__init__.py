"""The settings window and its tabs; each tab loads from and applies to ``Settings``."""
