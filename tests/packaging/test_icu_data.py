"""The bundle's trimmed ICU data: a valid package; QtCore answers as before where the app cares."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import PySide6
import pytest

from tests.packaging import icu_probe

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "packaging"))
import icu_build
import icu_data

ORIGINAL = Path(PySide6.__file__).parent / "Qt" / "lib" / icu_data.SONAME
linux_pyside_icu = pytest.mark.skipif(not ORIGINAL.is_file(), reason="PySide6 without ICU here")


def _package(*names: str) -> icu_data.Package:
    header = b"\x20\x00\xda\x27" + b"\x14\x00\x00\x00\x00\x00\x02\x00CmnD" + b"\0" * 16
    return icu_data.Package(header, {f"icudt73l/{n}": n.encode() * 3 for n in names})


def test_a_written_package_reads_back_with_its_items_in_order() -> None:
    package = _package("coll/root.res", "en.res", "root.res")
    back = icu_data.parse(icu_data.serialise(package))
    assert list(back.items) == list(package.items)
    # Items come back padded to ICU's 16-byte alignment, their bytes first.
    assert all(back.items[n].startswith(package.items[n]) for n in package.items)
    assert all(len(item) % 16 == 0 for item in back.items.values())


def test_keep_drops_dictionaries_codepages_and_display_names_but_not_collation() -> None:
    names = ("brkitr/cjdict.dict", "coll/ja.res", "curr/ja.res", "gb18030.cnv", "root.res")
    kept = icu_data.keep(_package(*names))
    assert list(kept.items) == ["icudt73l/coll/ja.res", "icudt73l/root.res"]


def test_bytes_that_are_not_an_icu_package_are_refused() -> None:
    with pytest.raises(ValueError, match="not an ICU common data package"):
        icu_data.parse(b"\x7fELF" + b"\0" * 60)


@linux_pyside_icu
def test_pysides_icu_data_round_trips_byte_for_byte() -> None:
    data = icu_data.symbol_bytes(ORIGINAL.read_bytes())
    assert icu_data.serialise(icu_data.parse(data)) == data


@pytest.fixture(scope="module")
def trimmed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not ORIGINAL.is_file() or shutil.which("cc") is None:
        pytest.skip("needs PySide6's ICU and a C compiler")
    built = icu_build.trimmed_library(ORIGINAL, tmp_path_factory.mktemp("icu"))
    assert built is not None
    return built


def _qt_answers(preload: Path | None) -> dict[str, object]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    if preload is not None:
        # Loaded first under the same soname, it stands in for the copy next to QtCore.
        env["LD_PRELOAD"] = str(preload)
    done = subprocess.run(
        [sys.executable, icu_probe.__file__], env=env, capture_output=True, text=True, check=True
    )
    answers = json.loads(done.stdout)
    assert isinstance(answers, dict)
    return answers


def test_the_trimmed_library_is_under_a_sixth_of_the_original(trimmed: Path) -> None:
    # 32 MB → 4.5 MB with ICU 73: the bulk of the 37 MB the bundle had to lose (issue #17).
    assert trimmed.stat().st_size * 6 < ORIGINAL.stat().st_size


def test_icupkg_reads_the_trimmed_package(trimmed: Path) -> None:
    icupkg = shutil.which("icupkg")
    if icupkg is None:
        pytest.skip("icupkg (icu-devtools) is not installed")
    done = subprocess.run(
        [icupkg, "-l", str(trimmed.with_name("icudt73l.dat"))],
        capture_output=True,
        text=True,
        check=True,
    )
    package = icu_data.parse(trimmed.with_name("icudt73l.dat").read_bytes())
    assert done.stdout.split() == [name.partition("/")[2] for name in package.items]


def test_qt_collates_cases_zones_and_decodes_unicode_as_with_the_full_data(trimmed: Path) -> None:
    full, small = _qt_answers(None), _qt_answers(trimmed)
    legacy = {f"codec {codec}" for codec in icu_probe.LEGACY_CODECS}
    assert {k: v for k, v in small.items() if k not in legacy} == {
        k: v for k, v in full.items() if k not in legacy
    }
    assert small["upper tr"] == "İSTANBUL" and small["tokyo valid"] is True


def test_legacy_code_pages_are_the_price_of_the_trim(trimmed: Path) -> None:
    small = _qt_answers(trimmed)
    assert not any(small[f"codec {codec}"] for codec in icu_probe.LEGACY_CODECS)
