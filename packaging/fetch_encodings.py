"""Install tiktoken's o200k_base (GPT-4o/4.1 family) and cl100k_base files into resources/encodings.

tiktoken downloads encodings at run time with no timeout; PromptReady never lets it. The litellm
wheel on PyPI carries both files under the names tiktoken's cache uses (sha1 of the source URL), so
this script downloads that wheel once (without installing it), copies the two files out, and checks
each against the sha256 tiktoken itself expects. Run by `make` on install; safe to re-run.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

TARGET = Path(__file__).resolve().parent.parent / "resources" / "encodings"
# cache file name (sha1 of tiktoken's URL) -> sha256 of the content, as tiktoken checks it
FILES = {
    "9b5ad71b2ce5302211f9c61530b329a4922fc6a4": (
        "cl100k_base",
        "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
    ),
    "fb374d419588a4632f3f557e76b4b70aebbca790": (
        "o200k_base",
        "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
    ),
}
INSIDE_WHEEL = "litellm/litellm_core_utils/tokenizers/"


def missing() -> list[str]:
    return [name for name, (_, digest) in FILES.items() if not _valid(TARGET / name, digest)]


def _valid(path: Path, digest: str) -> bool:
    return path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == digest


def main() -> int:
    if not missing():
        print("encodings: already installed")
        return 0
    TARGET.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(  # noqa: S603 - fixed arguments, our own interpreter
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "litellm", "-d", tmp],
            check=True,
        )
        (wheel,) = Path(tmp).glob("litellm-*.whl")
        with zipfile.ZipFile(wheel) as archive:
            for name in missing():
                data = archive.read(INSIDE_WHEEL + name)
                label, digest = FILES[name]
                if hashlib.sha256(data).hexdigest() != digest:
                    print(f"encodings: {label} in {wheel.name} has the wrong hash", file=sys.stderr)
                    return 1
                (TARGET / name).write_bytes(data)
                print(f"encodings: installed {label}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
