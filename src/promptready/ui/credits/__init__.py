"""PromptReady credits in the desktop app: the balance pill, its watcher and the credits errors."""
