"""The loopback OpenAI-compatible port: raw ASGI on 127.0.0.1 with per-app tokens and budgets.

No management endpoint lives here: tokens are created by the CLI or the settings window, which
write the token file this server reads.
"""
