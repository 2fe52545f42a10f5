"""Desktop start-up, each against a bare PySide6 app measured in the same run:

- time from process start to the tray icon visible: under X11 with ``trayer`` on PATH the bench
  runs trayer (an X11 tray host) itself and times start → the icon drawn in trayer's panel (its
  window mapped there and showing more than one colour: trayer maps an icon's window as soon as
  the app's show() has flushed, but the app draws it only when it handles events), vs a bare
  QApplication showing one QSystemTrayIcon; "mapped" alone is printed too (what this bench timed
  before). Without a tray host: the app's ready line on stderr (the no-tray window) vs a bare
  QApplication showing one QWidget;
- idle RSS two seconds after start with the local API running (gateway.enabled, /health
  answered), vs the bare QApplication idle; and the same with the selection hotkey off (what
  its X11 key grab costs).

Each start is a returning user's: the first-run window was answered (it shows once per computer).

Goals (desktop issue #15): tray visible ≤ 0.5 s, idle RSS ≤ 90 MB with the local API on.
Run ``xvfb-run -a .venv/bin/python bench/startup_bench.py`` for the tray path (``apt install
trayer``); without a display it runs offscreen (the no-tray window path).
"""

from __future__ import annotations

import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tray_host import TrayHost, trayer

ROOT = Path(__file__).resolve().parent.parent
ROUNDS = 5
IDLE_S = 2.0
POLL_S = 0.005
APP_NAME = "PromptReady"  # the bare baseline takes the same name: its icon window is found alike
BARE_WINDOW = """
import sys
from PySide6.QtWidgets import QApplication, QWidget
app = QApplication(sys.argv)
window = QWidget()
window.show()
app.processEvents()
print("ready", file=sys.stderr, flush=True)
app.exec()
"""
BARE_TRAY = f"""
import sys
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import QApplication, QSystemTrayIcon
app = QApplication(sys.argv)
app.setApplicationName("{APP_NAME}")
pixmap = QPixmap(22, 22)
pixmap.fill()
icon = QSystemTrayIcon(QIcon(pixmap))
icon.show()
print("ready", file=sys.stderr, flush=True)
app.exec()
"""


@contextmanager
def tray_host() -> Iterator[TrayHost | None]:
    """trayer running on $DISPLAY while the block runs, or None without X11 or trayer."""
    if (
        "DISPLAY" not in os.environ
        or os.environ.get("QT_QPA_PLATFORM")
        or not shutil.which("trayer")
    ):
        yield None
        return
    with trayer() as host:
        yield host


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mb(pid: int) -> float:
    for row in Path(f"/proc/{pid}/status").read_text().splitlines():
        if row.startswith("VmRSS:"):
            return int(row.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def health(port: int, seconds: float = 15) -> None:
    import httpx

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=0.5).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.02)
    raise RuntimeError("the local API did not answer")


def run_once(
    command: list[str], env: dict[str, str], port: int | None, host: TrayHost | None = None
) -> tuple[float, float, str, float]:
    """Seconds to the tray icon drawn in ``host`` (without one: to the ready line), idle RSS in
    MB, the ready line, and seconds to the icon's window mapped (without a host: 0)."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        command, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True
    )
    assert proc.stderr is not None
    try:
        mapped = 0.0
        if host is not None:
            while not host.icon_painted(APP_NAME):
                if proc.poll() is not None:
                    raise RuntimeError(f"exited with {proc.returncode} before its icon showed")
                if not mapped and host.icon_mapped(APP_NAME):
                    mapped = time.perf_counter() - start
                time.sleep(POLL_S)
            visible = time.perf_counter() - start
            mapped = mapped or visible
        while True:
            line = proc.stderr.readline()
            if not line:
                raise RuntimeError(f"exited with {proc.wait()} before it was ready")
            if line.startswith(("ready", "PromptReady is running")):
                break
        ready = visible if host is not None else time.perf_counter() - start
        if port is not None:
            health(port)
        time.sleep(IDLE_S)
        return ready, rss_mb(proc.pid), line.strip(), mapped
    finally:
        proc.terminate()
        proc.communicate(timeout=30)


def home_with_gateway(root: Path, port: int, hotkey: bool = True) -> dict[str, str]:
    from promptready.ui.first_run_seen import SEEN_FILE

    config = root / "config"
    config.mkdir(parents=True)
    settings = f"[gateway]\nenabled = true\nport = {port}\n"
    if not hotkey:
        settings += "[desktop]\nselection_hotkey_enabled = false\n"
    (config / "settings.toml").write_text(settings)
    (root / "data").mkdir()
    (root / "data" / SEEN_FILE).write_text("Offline\n")
    env = dict(os.environ, PROMPTREADY_HOME=str(root))
    if "DISPLAY" not in env and "WAYLAND_DISPLAY" not in env:
        env["QT_QPA_PLATFORM"] = "offscreen"
    return env


def line(name: str, ours: str, base_name: str, base: str, ratio: str, goal: str = "") -> None:
    shown = f"ratio {ratio:>9}" if ratio else " " * 15
    print(f"{name:<26}{ours:>16}   {base_name:<22}{base:>16}   {shown}   {goal}".rstrip())


def main() -> None:
    ours_ready, ours_rss, bare_ready, bare_rss, quiet_rss = [], [], [], [], []
    ours_mapped, bare_mapped = [], []
    ready_line = ""
    with tempfile.TemporaryDirectory() as tmp, tray_host() as host:
        bare = BARE_TRAY if host is not None else BARE_WINDOW
        for n in range(ROUNDS):
            port = free_port()
            env = home_with_gateway(Path(tmp) / f"home{n}", port)
            ready, rss, ready_line, mapped = run_once(
                [sys.executable, "-m", "promptready"], env, port, host
            )
            ours_ready.append(ready)
            ours_rss.append(rss)
            ours_mapped.append(mapped)
            ready, rss, _, mapped = run_once([sys.executable, "-c", bare], env, None, host)
            bare_ready.append(ready)
            bare_rss.append(rss)
            bare_mapped.append(mapped)
            port = free_port()
            env = home_with_gateway(Path(tmp) / f"quiet{n}", port, hotkey=False)
            quiet_rss.append(run_once([sys.executable, "-m", "promptready"], env, port, host)[1])
    platform = os.environ.get("QT_QPA_PLATFORM") or (
        "xcb" if "DISPLAY" in os.environ else "offscreen"
    )
    shown = "tray icon drawn (trayer)" if host is not None else "ready line (no tray)"
    print(f"platform: {platform}; {ROUNDS} rounds, medians; timed to: {shown}; "
          f"the app said: {ready_line!r}; load average {os.getloadavg()[0]:.2f}")  # fmt: skip
    ours, base = statistics.median(ours_ready), statistics.median(bare_ready)
    bare_name = "bare QSystemTrayIcon" if host is not None else "bare QApplication"
    line("start to tray/window", f"{ours * 1e3:.0f} ms", bare_name, f"{base * 1e3:.0f} ms",
         f"{ours / base:.2f}x", "goal ≤ 500 ms")  # fmt: skip
    if host is not None:
        ours, base = statistics.median(ours_mapped), statistics.median(bare_mapped)
        line("  icon window mapped", f"{ours * 1e3:.0f} ms", bare_name, f"{base * 1e3:.0f} ms",
             f"{ours / base:.2f}x")  # fmt: skip
    ours, base = statistics.median(ours_rss), statistics.median(bare_rss)
    line("idle RSS, local API on", f"{ours:.0f} MB", bare_name, f"{base:.0f} MB",
         f"{ours / base:.2f}x", "goal ≤ 90 MB")  # fmt: skip
    quiet = statistics.median(quiet_rss)
    line("  selection hotkey off", f"{quiet:.0f} MB", bare_name, f"{base:.0f} MB",
         f"{quiet / base:.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
