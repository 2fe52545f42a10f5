"""All upstream HTTP: OpenAI-compatible providers, retries, fallbacks and streaming.

One shared aiohttp session serves every provider (measured 3-6x cheaper per request than httpx
here); nothing outside this package opens an upstream connection.
"""
