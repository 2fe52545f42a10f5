"""The desktop app (PySide6 + qasync): tray, popup, settings and usage windows.

Widgets only: every action goes through ``DesktopContext`` to the engine, the ledger, the keyring
or the local API facade. Nothing here imports ``gateway/`` or ``cloud/``.
"""
