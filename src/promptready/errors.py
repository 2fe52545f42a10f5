"""The one exception tree.

PromptReadyError              an expected failure; ``str(err)`` is the sentence to show the user
 ├── InputError                the text given to enhance cannot be used (empty, binary, too large)
 ├── ConfigError               a settings or data file is invalid; names the file and the key
 ├── ResourceError             a file shipped with the app is missing or unreadable
 └── NotConfiguredError        a feature needs set-up first (e.g. AI mode without a provider)

Anything else that escapes is a bug and is reported with its traceback.
"""

from __future__ import annotations


class PromptReadyError(Exception):
    """An expected failure whose message is one clear sentence for the user."""


class InputError(PromptReadyError):
    """The input text cannot be enhanced as given."""


class ConfigError(PromptReadyError):
    """A settings or data file holds an invalid value."""


class ResourceError(PromptReadyError):
    """A resource shipped with the app is missing or unreadable."""


class NotConfiguredError(PromptReadyError):
    """A feature was asked for before it was set up."""
