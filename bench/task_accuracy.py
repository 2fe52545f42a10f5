"""Task detection accuracy on the golden suite: per-task precision and recall, and the misses.

Run: ``.venv/bin/python bench/task_accuracy.py`` (goal: at least 90% overall).
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

from tests.enhance.golden.cases import load_cases  # noqa: E402

from promptready.enhance import enhance  # noqa: E402


def main() -> None:
    cases = load_cases()
    truth: Counter[str] = Counter()
    predicted: Counter[str] = Counter()
    correct: Counter[str] = Counter()
    misses = []
    for case in cases:
        got = enhance(case.input).analysis
        truth[case.task] += 1
        predicted[got.task.value] += 1
        if got.task.value == case.task:
            correct[case.task] += 1
        else:
            misses.append(
                f"  {case.id}: expected {case.task}, got {got.task.value} ({got.confidence})"
            )
    print(f"{'task':<14} {'cases':>5} {'precision':>10} {'recall':>8}")
    for task in sorted(truth):
        precision = correct[task] / predicted[task] if predicted[task] else 0.0
        print(f"{task:<14} {truth[task]:>5} {precision:>10.0%} {correct[task] / truth[task]:>8.0%}")
    accuracy = sum(correct.values()) / len(cases)
    print(f"\noverall accuracy {accuracy:.1%} on {len(cases)} cases (goal: 90%)")
    if misses:
        print("misses:\n" + "\n".join(misses))


if __name__ == "__main__":
    main()
