"""The wheel carries the resources, and the installed package finds them there."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# Both tests use one wheel: `make test`'s workers keep them together so it is built once.
pytestmark = pytest.mark.xdist_group("wheel")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
    subprocess.run(
        [*pip_wheel, "--quiet", "--wheel-dir", str(out), str(REPO)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (built,) = out.glob("promptready-*.whl")
    return built


def test_wheel_contains_resources_inside_the_package(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert "promptready/resources/README.md" in names
    assert any(n.startswith("promptready/resources/enhance/") for n in names)


def test_installed_wheel_loads_resources_and_enhances(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(target)
    probe = (
        "import promptready, promptready.resources as r;"
        "print(promptready.__file__); print(r.resources_dir());"
        "from promptready.cli import main; main(['enhance', 'write a haiku about tea'])"
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    done = subprocess.run(
        [sys.executable, "-c", probe],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    module_file, resources_dir, *_ = done.stdout.splitlines()
    assert Path(module_file).is_relative_to(target)
    assert Path(resources_dir) == target / "promptready" / "resources"
    assert "haiku about tea" in done.stdout
