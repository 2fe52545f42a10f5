"""The PyInstaller bundle, one run: its size against the goal, the build time, and cold starts.

- size of dist/PromptReady (goal, issue #17: ≤ 130 MB on Linux);
- build time of `pyinstaller build.spec` (skipped with --no-build: measures an existing bundle);
- process start to `--self-test` done, the bundle vs `python -m promptready --self-test`;
- process start to the app's ready line (tray shown, or the no-tray window offscreen), the bundle
  vs `python -m promptready`;
- process start to a visible tray icon: Xvfb plus `trayer` (an XEmbed system tray) give a real
  tray, and the clock stops when the app's icon window is mapped inside trayer's panel;
- with --onefile, the same for the one-file executable (PROMPTREADY_ONEFILE=1), which unpacks
  itself to a temp folder at every start;
- with --popup DIR, a check more than a measure: on that tray, the bundle's popup enhances
  Japanese, Chinese and Russian text the way a user does it (text on the clipboard, a second
  launch opens the popup, Ctrl+Enter, Enter copies the prompt), and a screenshot of each popup
  goes to DIR (the trimmed ICU data must not cost any script its rendering).

Run: `.venv/bin/python bench/bundle_bench.py [--no-build] [--onefile] [--popup DIR]` from the
repo root.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tray_host import TrayHost, trayer, wait_for, xvfb

ROOT = Path(__file__).resolve().parent.parent
BUNDLE = ROOT / "dist" / "PromptReady"
ONEFILE = ROOT / "dist" / "onefile" / "PromptReady"
GOAL_MB = 130
ROUNDS = 3
# Seconds a start may take before the tray measure gives up (a loaded CI box is slow, not stuck).
TRAY_TIMEOUT_S = 60.0
# The WM_CLASS class Qt gives every window of the app, the tray icon's included.
APP_CLASS = "PromptReady"


def size_mb(folder: Path) -> float:
    """Bytes of every file under ``folder``, in MB (symlinks, which PyInstaller adds, count once)."""
    files = (p for p in folder.rglob("*") if p.is_file() and not p.is_symlink())
    return sum(p.stat().st_size for p in files) / 1e6


def build(onefile: bool = False) -> float:
    """Seconds `pyinstaller build.spec` takes from a clean work folder (one-file: dist/onefile/)."""
    pyinstaller = Path(sys.executable).with_name("pyinstaller")
    command = [str(pyinstaller), "--noconfirm", "--clean", "--log-level", "ERROR", "build.spec"]
    env = dict(os.environ)
    if onefile:
        env["PROMPTREADY_ONEFILE"] = "1"
        command += [
            "--distpath",
            str(ONEFILE.parent),
            "--workpath",
            str(ROOT / "build" / "onefile"),
        ]
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, env=env, check=True)
    return time.perf_counter() - start


def _env(home: str) -> dict[str, str]:
    # The same null keyring as packaging/check_bundle.sh: a CI box has no Secret Service.
    return {
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
        **os.environ,
        "PROMPTREADY_HOME": home,
        "QT_QPA_PLATFORM": "offscreen",
    }


def _stop(proc: subprocess.Popen[Any]) -> None:
    # SIGTERM, not SIGKILL: a one-file bootloader passes it on to the app it unpacked and then
    # removes the unpacked copy; killed outright, it would orphan both.
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def self_test_s(command: Sequence[str]) -> float:
    """Median seconds from process start to a green `--self-test`."""
    times = []
    for _ in range(ROUNDS):
        with tempfile.TemporaryDirectory() as home:
            start = time.perf_counter()
            subprocess.run(
                [*command, "--self-test"], env=_env(home), check=True, capture_output=True
            )
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def ready_s(command: Sequence[str]) -> float:
    """Median seconds from process start to the app's ready line on stderr."""
    times = []
    for _ in range(ROUNDS):
        with tempfile.TemporaryDirectory() as home:
            start = time.perf_counter()
            proc = subprocess.Popen(
                command,
                env=_env(home),
                stderr=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                text=True,
            )
            assert proc.stderr is not None
            try:
                for line in proc.stderr:
                    if line.startswith("PromptReady is running"):
                        times.append(time.perf_counter() - start)
                        break
                else:
                    raise RuntimeError(f"exited with {proc.wait()} before it was ready")
            finally:
                _stop(proc)
    return statistics.median(times)


def tray_visible_s(command: Sequence[str], host: TrayHost) -> float:
    """Median seconds from process start to the app's icon visible in trayer's tray."""
    times = []
    for _ in range(ROUNDS):
        with tempfile.TemporaryDirectory() as home:
            env = {**_env(home), "DISPLAY": host.display_name}
            env["QT_QPA_PLATFORM"] = "xcb"
            start = time.perf_counter()
            proc = subprocess.Popen(
                command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            try:
                wait_for(lambda: host.icon_mapped(APP_CLASS), "the tray icon", TRAY_TIMEOUT_S)
                times.append(time.perf_counter() - start)
            finally:
                _stop(proc)
            wait_for(lambda: not host.icon_mapped(APP_CLASS), "the icon's removal")
    return statistics.median(times)


# Text in, and the heading the offline enhancer writes in that language.
POPUP_TEXTS = (
    ("ja", "東京の天気について短いメールを書いて、丁寧な日本語で", "タスク"),
    ("zh", "帮我写一封简短的邮件，询问北京的天气", "任务"),
    ("ru", "Напиши короткое письмо о погоде в Москве", "Задача"),
)
# A helper on the same display that owns or reads the clipboard (the venv's PySide6, not the
# bundle's): argv[1] is the text to own for argv[2] seconds, or absent to print what is there.
_CLIPBOARD = """
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
app = QApplication(["clipboard"])
if len(sys.argv) > 1:
    app.clipboard().setText(sys.argv[1])
    QTimer.singleShot(int(float(sys.argv[2]) * 1000), app.quit)
    app.exec()
else:
    sys.stdout.write(app.clipboard().text())
"""


def _popup_window(connection: Any) -> Any | None:
    from Xlib import X, error

    for window in connection.screen().root.query_tree().children:
        try:
            wm_class = window.get_wm_class() or ()
            viewable = window.get_attributes().map_state == X.IsViewable
            name = window.get_wm_name() or ""
            width = window.get_geometry().width
        except error.XError:
            continue
        # The popup is the app's one top-level window titled with its name (no first-run window).
        if viewable and APP_CLASS in wm_class and name == APP_CLASS and width > 100:
            return window
    return None


def _screenshot(window: Any, path: Path) -> None:
    from PySide6.QtGui import QImage

    geometry = window.get_geometry()
    image = window.get_image(0, 0, geometry.width, geometry.height, 2, 0xFFFFFFFF)  # ZPixmap
    data = bytes(image.data)
    picture = QImage(
        data, geometry.width, geometry.height, geometry.width * 4, QImage.Format.Format_RGB32
    )
    picture.save(str(path))


def popup_check(command: Sequence[str], host: TrayHost, shots: Path) -> list[str]:
    """Enhance each of ``POPUP_TEXTS`` in the popup of the app ``command`` starts; the problems
    found (none: green). Screenshots show tofu where the machine has no CJK font, bundle or not."""
    shots.mkdir(parents=True, exist_ok=True)
    display, connection = host.display_name, host.connection
    problems: list[str] = []
    with tempfile.TemporaryDirectory() as home:
        (Path(home) / "data").mkdir()
        (Path(home) / "data" / "first-run-done").touch()  # the welcome window would take focus
        env = {**_env(home), "DISPLAY": display, "QT_QPA_PLATFORM": "xcb"}
        helper = {**env, "PROMPTREADY_HOME": tempfile.mkdtemp()}
        app = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            wait_for(lambda: host.icon_mapped(APP_CLASS), "the tray icon", TRAY_TIMEOUT_S)
            for language, text, heading in POPUP_TEXTS:
                owner = subprocess.Popen([sys.executable, "-c", _CLIPBOARD, text, "30"], env=helper)
                time.sleep(2.0)  # the helper owns the clipboard
                # A second launch hands over to the running app, which opens the popup.
                subprocess.run(command, env=env, capture_output=True, check=True)
                wait_for(lambda: _popup_window(connection) is not None, "the popup", 30)
                keys = ["xdotool", "key", "--delay", "100"]
                subprocess.run([*keys, "ctrl+Return"], env=env, check=True)
                time.sleep(2.0)  # the offline enhancer answers in milliseconds; drawing is slower
                _screenshot(_popup_window(connection), shots / f"popup-{language}.png")
                subprocess.run([*keys, "Return"], env=env, check=True)
                wait_for(lambda: _popup_window(connection) is None, "the popup to close", 30)
                _stop(owner)
                copied = subprocess.run(
                    [sys.executable, "-c", _CLIPBOARD],
                    env=helper,
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout
                if text not in copied or heading not in copied:
                    problems.append(f"{language}: the copied prompt was {copied!r}")
        finally:
            _stop(app)
    return problems


def compare(label: str, frozen: Sequence[str], host: TrayHost | None) -> None:
    """Print the bundle ``frozen`` against `python -m promptready`, start by start."""
    source = [sys.executable, "-m", "promptready"]
    a, b = self_test_s(frozen), self_test_s(source)
    print(f"--self-test done: {label} {a:.2f} s vs python -m {b:.2f} s (ratio {a / b:.2f})")
    a, b = ready_s(frozen), ready_s(source)
    print(f"ready line (offscreen): {label} {a:.2f} s vs python -m {b:.2f} s (ratio {a / b:.2f})")
    if host is not None:
        a, b = tray_visible_s(frozen, host), tray_visible_s(source, host)
        print(f"tray icon visible: {label} {a:.2f} s vs python -m {b:.2f} s (ratio {a / b:.2f})")


def main(argv: Sequence[str]) -> int:
    """Print one line per measure; exit 1 when the bundle is over its size goal."""
    onefile = "--onefile" in argv
    if "--popup" in argv and not all(shutil.which(tool) for tool in ("Xvfb", "trayer", "xdotool")):
        print("--popup needs Xvfb, trayer and xdotool")
        return 2
    if "--no-build" not in argv:
        print(f"build: {build():.1f} s")
        if onefile:
            print(f"build (one file): {build(onefile=True):.1f} s")
    size = size_mb(BUNDLE)
    print(f"bundle size: {size:.1f} MB (goal ≤ {GOAL_MB} MB)")
    if onefile:
        print(f"one-file size: {ONEFILE.stat().st_size / 1e6:.1f} MB")
    print(f"load average: {os.getloadavg()[0]:.2f}")
    has_tray_host = all(shutil.which(tool) for tool in ("Xvfb", "trayer"))
    if not has_tray_host:
        print("tray icon visible: skipped (needs Xvfb and trayer)")
    with contextlib.ExitStack() as stack:
        # A display of its own: the bench's windows and clicks never meet the user's desktop.
        host = stack.enter_context(trayer(stack.enter_context(xvfb()))) if has_tray_host else None
        compare("bundle", [str(BUNDLE / "PromptReady")], host)
        if onefile:
            compare("one file", [str(ONEFILE)], host)
        problems = []
        if "--popup" in argv and host is not None:
            shots = Path(argv[argv.index("--popup") + 1])
            problems = popup_check([str(BUNDLE / "PromptReady")], host, shots)
            print(f"popup ja/zh/ru: {'; '.join(problems) or 'green'} (screenshots in {shots})")
    print(f"load average: {os.getloadavg()[0]:.2f}")
    return 0 if size <= GOAL_MB and not problems else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
