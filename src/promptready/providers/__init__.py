"""All upstream HTTP: OpenAI-compatible providers, retries, fallbacks and streaming.

One shared ``promptready.http1`` client serves every provider (see ``http1/client.py`` for why
not aiohttp or httpx); nothing outside this package opens an upstream connection.
"""
