"""PromptReady: turn rough text into a prompt that is ready to send."""

__version__ = "0.1.0"
