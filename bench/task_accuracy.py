"""Task detection accuracy on every golden set: per-set accuracy, per-task precision and recall
over all sets, and the misses.

Run: ``.venv/bin/python bench/task_accuracy.py`` (goal: at least 90% on each set). The sets are
``tests/enhance/golden`` (written with the enhancer) and the blind-written sets listed in
``tests/enhance/heldout/cases.py``; ``final`` is the one nobody has tuned the enhancer on.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

from tests.enhance.golden.cases import load_cases as load_own  # noqa: E402
from tests.enhance.heldout.cases import load_suites  # noqa: E402

from promptready.enhance import enhance  # noqa: E402

GOAL = 0.90


def main() -> None:
    sets: dict[str, list[tuple[str, str, str]]] = {
        "golden": [(c.id, c.task, c.input) for c in load_own()],
        **{name: [(c.id, c.task, c.input) for c in cases] for name, cases in load_suites().items()},
    }
    truth: Counter[str] = Counter()
    predicted: Counter[str] = Counter()
    correct: Counter[str] = Counter()
    misses = []
    print(f"{'set':<10} {'cases':>5} {'accuracy':>9}")
    for name, cases in sets.items():
        right = 0
        for case_id, task, text in cases:
            got = enhance(text).analysis
            truth[task] += 1
            predicted[got.task.value] += 1
            if got.task.value == task:
                correct[task] += 1
                right += 1
            else:
                misses.append(
                    f"  {name}/{case_id}: expected {task}, got {got.task.value} ({got.confidence})"
                )
        print(f"{name:<10} {len(cases):>5} {right / len(cases):>9.1%}")
    print(f"\n{'task':<14} {'cases':>5} {'precision':>10} {'recall':>8}")
    for task in sorted(truth):
        precision = correct[task] / predicted[task] if predicted[task] else 0.0
        print(f"{task:<14} {truth[task]:>5} {precision:>10.0%} {correct[task] / truth[task]:>8.0%}")
    total = sum(truth.values())
    print(
        f"\noverall {sum(correct.values()) / total:.1%} on {total} cases (goal: {GOAL:.0%} per set)"
    )
    if misses:
        print("misses:\n" + "\n".join(misses))


if __name__ == "__main__":
    main()
