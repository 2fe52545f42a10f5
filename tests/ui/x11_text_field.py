"""Another app for the X11 selection test: one text field on the real X server. It puts the
user's clipboard text on the clipboard, then reports its window, every change of its text and
every change of the clipboard on stdout, one line each."""

from __future__ import annotations

import json
import sys

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QLineEdit


def main() -> int:
    app = QApplication([sys.argv[0], "-platform", "xcb"])
    text, clipboard_text = sys.argv[1], sys.argv[2]
    field = QLineEdit(text)
    field.setWindowTitle("x11-text-field")
    field.resize(600, 40)

    def say(kind: str, value: object) -> None:
        print(json.dumps({kind: value}), flush=True)

    field.textChanged.connect(lambda value: say("text", value))
    clipboard = QGuiApplication.clipboard()
    clipboard.dataChanged.connect(lambda: say("clipboard", clipboard.text()))
    clipboard.setText(clipboard_text)
    field.show()
    app.processEvents()
    say("window", int(field.winId()))
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
