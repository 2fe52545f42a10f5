"""Billing for the hosted credit proxy: Stripe Checkout, signed webhooks, the Pro plan, auto-reload,
reconciliation, money metrics and the metering export. Stripe calls go through the real ``stripe``
library (``stripe_api``); every credit moves through the store's ``grant``/``revoke``."""
