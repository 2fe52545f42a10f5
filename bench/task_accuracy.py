"""Task detection accuracy and output quality on every golden set: per-set accuracy (with the
set's untouched score), per-task precision and recall, the misses, and four output measures:
median length inflation of inputs under 120 characters, the share of outputs holding any
placeholder, outputs mixing languages, and accuracy by confidence.

Run: ``.venv/bin/python bench/task_accuracy.py`` (goal: at least 90% on each set; inflation
≤ 2×; placeholders ≤ 10%; no output mixing languages). ``--calibrate`` re-derives the
confidence threshold below which only the ask and the material are laid out: each blind set is
scored by the enhancer as it was just before that set was used for tuning (``git archive`` of
that commit into a temporary folder), so every guess is one on phrasing it had never seen.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tarfile
import tempfile
from collections import Counter
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

from tests.enhance.added_language import languages_added  # noqa: E402
from tests.enhance.golden.cases import load_cases as load_own  # noqa: E402
from tests.enhance.heldout.cases import UNTOUCHED, load_suites  # noqa: E402
from tests.enhance.labelled_sets import UNTOUCHED as LABELLED_SCORES  # noqa: E402
from tests.enhance.labelled_sets import load_sets, verdict  # noqa: E402

from promptready.enhance import enhance  # noqa: E402

GOAL = 0.90
SHORT = 120
_PLACEHOLDER = re.compile(r"\[[A-Z][A-Z0-9 _/-]*\?\]")
# Each blind set and the commit that first tuned the enhancer on it (its parent scored it blind).
TUNED_ON = {
    "sealed": "6f88e47",
    "vault": "2dedd34",
    "trove": "4aad801",
    "cellar": "967e7aa",
    "attic": "7244268",
}
_SCORE_OLD = """
import json, sys
sys.path[:0] = [sys.argv[1] + "/src", sys.argv[2]]
from tests.enhance.heldout.cases import GOLDEN_DIR, load_cases
from promptready.enhance import enhance
rows = []
for case in load_cases(GOLDEN_DIR.parent / sys.argv[3] / "cases"):
    got = enhance(case.input).analysis
    rows.append([case.id, case.task, got.task.value, got.confidence])
print(json.dumps(rows))
"""


def run_archived(commit: str, script: str, *args: str) -> str:
    """Stdout of ``script`` run on the enhancer as it was at ``commit`` (``git archive`` of its
    src and resources into a temp folder); argv[1] is that folder, argv[2] this checkout."""
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", commit, "src", "resources"],
            capture_output=True,
            check=True,
        ).stdout
        with tarfile.open(fileobj=BytesIO(archive)) as tar:
            tar.extractall(tmp, filter="data")
        return subprocess.run(
            [sys.executable, "-c", script, tmp, str(ROOT), *args],
            capture_output=True,
            check=True,
            text=True,
        ).stdout


# Scores the JSON-lines sets (tests/enhance/labelled_sets.py) on an archived enhancer.
_SCORE_LABELLED = """
import json, sys
sys.path[:0] = [sys.argv[1] + "/src", sys.argv[2]]
from tests.enhance.labelled_sets import load_sets, verdict
from promptready.enhance import enhance
rows = []
for cases in load_sets().values():
    for case in cases:
        got = enhance(case.text)
        said = verdict(got.analysis.task.value, tuple(h.rule for h in got.analysis.lint), got.text)
        rows.append([case.id, case.label, said, got.analysis.confidence])
print(json.dumps(rows))
"""
# The enhancer before any change made for the JSON-lines sets: their untouched scores.
LABELLED_UNTOUCHED = "2398757"


def labelled_predictions(commit: str = LABELLED_UNTOUCHED) -> list[tuple[str, str, str, float]]:
    """(case id, label, verdict, confidence) for every JSON-lines case, scored at ``commit``."""
    rows = json.loads(run_archived(commit, _SCORE_LABELLED))
    return [(i, label, said, float(c)) for i, label, said, c in rows]


def blind_predictions() -> dict[str, list[tuple[str, str, str, float]]]:
    """Per blind set: (case id, label, guess, confidence) from the enhancer as it was just
    before that set was used for tuning (``git archive`` of that commit into a temp folder)."""
    found: dict[str, list[tuple[str, str, str, float]]] = {}
    for name, commit in TUNED_ON.items():
        scored = run_archived(f"{commit}^", _SCORE_OLD, name)
        found[name] = [(i, t, g, float(c)) for i, t, g, c in json.loads(scored)]
    return found


def calibrate() -> None:
    """Accuracy by confidence of blind guesses, each set scored by the enhancer before it."""
    rows: list[tuple[bool, float]] = []
    for name, found in blind_predictions().items():
        right = [(label == guess, confidence) for _, label, guess, confidence in found]
        print(f"{name:<8} blind {sum(r for r, _ in right) / len(right):.0%}")
        rows += right
    print(f"\n{'threshold':>9} {'below':>6} {'right':>6} {'above':>6} {'right':>6} {'gain':>5}")
    for threshold in (0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7):
        below = [r for r, c in rows if c < threshold]
        above = [r for r, c in rows if c >= threshold]
        gain = sum(above) - (len(above) - sum(above))  # right minus wrong full templates
        print(
            f"{threshold:>9} {len(below):>6} {sum(below) / max(1, len(below)):>6.0%}"
            f" {len(above):>6} {sum(above) / max(1, len(above)):>6.0%} {gain:>5}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calibrate", action="store_true", help="re-derive the threshold")
    if parser.parse_args().calibrate:
        calibrate()
        return
    sets: dict[str, list[tuple[str, str, str, str]]] = {
        "golden": [(c.id, c.task, c.language, c.input) for c in load_own()],
        **{
            name: [(c.id, c.task, c.language, c.input) for c in cases]
            for name, cases in load_suites().items()
        },
    }
    truth: Counter[str] = Counter()
    predicted: Counter[str] = Counter()
    correct: Counter[str] = Counter()
    misses = []
    inflation: list[float] = []
    with_placeholder = mixed = right_language = 0
    print(f"{'set':<10} {'cases':>5} {'accuracy':>9} {'untouched':>10}")
    for name, cases in sets.items():
        right = 0
        for case_id, task, language, text in cases:
            result = enhance(text)
            got = result.analysis
            truth[task] += 1
            predicted[got.task.value] += 1
            if got.task.value == task:
                correct[task] += 1
                right += 1
            else:
                misses.append(f"  {name}/{case_id}: expected {task}, got {got.task.value}")
            if len(text.strip()) < SHORT:
                inflation.append(len(result.text) / len(text.strip()))
            with_placeholder += bool(_PLACEHOLDER.search(result.text))
            mixed += len(languages_added(text, result)) > 1
            right_language += got.language == language
        untouched = f"{UNTOUCHED[name]:.1%}" if name in UNTOUCHED else "-"
        print(f"{name:<10} {len(cases):>5} {right / len(cases):>9.1%} {untouched:>10}")
    print(f"\n{'task':<14} {'cases':>5} {'precision':>10} {'recall':>8}")
    for task in sorted(truth):
        precision = correct[task] / predicted[task] if predicted[task] else 0.0
        print(f"{task:<14} {truth[task]:>5} {precision:>10.0%} {correct[task] / truth[task]:>8.0%}")
    total = sum(truth.values())
    print(
        f"\noverall {sum(correct.values()) / total:.1%} on {total} cases (goal: {GOAL:.0%} per set)"
    )
    print(
        f"median inflation under {SHORT} chars: {statistics.median(inflation):.2f}x"
        f" ({len(inflation)} inputs; goal <= 2x)"
    )
    print(f"outputs with a placeholder: {with_placeholder / total:.1%} (goal <= 10%)")
    print(f"outputs mixing languages: {mixed} (goal 0)")
    print(f"request language right: {right_language / total:.1%}")
    labelled_report(misses)
    if misses:
        print("misses:\n" + "\n".join(misses))


def labelled_report(misses: list[str]) -> None:
    """The JSON-lines sets (non-prompts, near misses, per-language cues): accuracy now and
    untouched, and their outputs mixing languages; appends their misses."""
    print(f"\n{'new set':<10} {'cases':>5} {'accuracy':>9} {'untouched':>10} {'mixed':>6}")
    for name, cases in load_sets().items():
        right = mixed = 0
        for case in cases:
            result = enhance(case.text)
            rules = tuple(h.rule for h in result.analysis.lint)
            said = verdict(result.analysis.task.value, rules, result.text)
            right += said == case.label
            mixed += len(languages_added(case.text, result)) > 1
            if said != case.label:
                misses.append(f"  {case.id}: expected {case.label}, got {said}")
        untouched = LABELLED_SCORES[name]
        print(
            f"{name:<10} {len(cases):>5} {right / len(cases):>9.1%} {untouched:>10.1%} {mixed:>6}"
        )


if __name__ == "__main__":
    main()
