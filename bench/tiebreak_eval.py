"""Would a learned tie-breaker earn its place? A character n-gram naive Bayes classifier over
the labelled sets, scored leave-one-set-out, against the rules on the same unseen cases.

For each blind set with a pre-tuning snapshot (see ``task_accuracy.py --calibrate``) the rules'
guesses are those of the enhancer just before that set was used for tuning, so neither side has
seen the set. Printed per set: the rules alone, the model alone (trained on every other set),
and the hybrid (the model decides only where the rules' confidence is under the threshold).
Pure Python, a few seconds: ``.venv/bin/python bench/tiebreak_eval.py``; ``--write`` trains on
every set and writes ``resources/enhance/tiebreak.json``.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "src"), str(ROOT / "bench")]

from tests.enhance.golden.cases import load_cases as load_own  # noqa: E402
from tests.enhance.heldout.cases import load_suites  # noqa: E402
from tests.enhance.labelled_sets import NOT_A_PROMPT, Labelled, load_sets  # noqa: E402

from promptready.enhance.pipeline import CONFIDENT  # noqa: E402
from promptready.enhance.tiebreak import NaiveBayes  # noqa: E402
from promptready.resources import resources_dir  # noqa: E402
from task_accuracy import blind_predictions, labelled_predictions  # noqa: E402

# The pair scored by language folds: the only sets holding the not_a_prompt class.
PAIRED = ("nonprompt", "nearmiss")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="train on every set and ship it")
    sets = {"golden": [(c.id, c.input, c.task) for c in load_own()]}
    sets |= {n: [(c.id, c.input, c.task) for c in cs] for n, cs in load_suites().items()}
    labelled = load_sets()
    sets |= {n: [(c.id, c.text, c.label) for c in cs] for n, cs in labelled.items()}
    if parser.parse_args().write:
        model = NaiveBayes.train([(t, label) for cases in sets.values() for _, t, label in cases])
        path = resources_dir() / "enhance" / "tiebreak.json"
        path.write_text(model.to_json(), encoding="utf-8")
        print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
        return
    task_sets(sets)
    not_a_prompt_folds(sets, labelled)


def task_sets(sets: dict[str, list[tuple[str, str, str]]]) -> None:
    """Each blind task set left out in turn: rules, model and hybrid on its unseen cases."""
    print(f"{'set':<8} {'cases':>5} {'rules':>6} {'model':>6} {'hybrid':>7} {'unsure':>7}")
    totals = Counter[str]()
    for name, blind in blind_predictions().items():
        model = NaiveBayes.train(
            [(t, label) for n, cases in sets.items() if n != name for _, t, label in cases]
        )
        texts = {case_id: text for case_id, text, _ in sets[name]}
        rules = model_right = hybrid = unsure = 0
        for case_id, label, guess, confidence in blind:
            learned = model.predict(texts[case_id])
            rules += guess == label
            model_right += learned == label
            low = confidence < CONFIDENT
            unsure += low
            hybrid += (learned if low else guess) == label
        size = len(blind)
        totals.update(cases=size, rules=rules, model=model_right, hybrid=hybrid, unsure=unsure)
        print(
            f"{name:<8} {size:>5} {rules / size:>6.1%} {model_right / size:>6.1%}"
            f" {hybrid / size:>7.1%} {unsure:>7}"
        )
    size = totals["cases"]
    print(
        f"{'all':<8} {size:>5} {totals['rules'] / size:>6.1%} {totals['model'] / size:>6.1%}"
        f" {totals['hybrid'] / size:>7.1%} {totals['unsure']:>7}"
    )


def not_a_prompt_folds(
    sets: dict[str, list[tuple[str, str, str]]], labelled: dict[str, list[Labelled]]
) -> None:
    """The non-prompts and their near misses, one language left out at a time: the model is
    trained on every task set and on the pair's other languages; the rules are the enhancer
    before any change for these sets. Right = the same verdict (not_a_prompt or the task)."""
    rules_said = {i: (said, c) for i, _, said, c in labelled_predictions()}
    pair = [case for name in PAIRED for case in labelled[name]]
    others = [(t, label) for n, cases in sets.items() if n not in PAIRED for _, t, label in cases]
    print(f"\n{'language':<8} {'cases':>5} {'rules':>6} {'model':>6} {'hybrid':>7} {'unsure':>7}")
    totals = Counter[str]()
    for language in sorted({c.language for c in pair}):
        seen = [(c.text, c.label) for c in pair if c.language != language]
        model = NaiveBayes.train(others + seen)
        unseen = [c for c in pair if c.language == language]
        row = Counter[str](cases=len(unseen))
        for case in unseen:
            said, confidence = rules_said[case.id]
            learned = model.predict(case.text)
            row["rules"] += said == case.label
            row["model"] += learned == case.label
            low = said != NOT_A_PROMPT and confidence < CONFIDENT
            row["unsure"] += low
            chosen = learned if low else said
            row["hybrid"] += chosen == case.label
            if case.label != NOT_A_PROMPT:  # a real prompt turned away: the costly mistake
                row["rules_refused"] += said == NOT_A_PROMPT
                row["hybrid_refused"] += chosen == NOT_A_PROMPT
        totals.update(row)
        _row(language, row)
    _row("all", totals)
    print(
        f"near misses read as not a prompt: rules {totals['rules_refused']},"
        f" hybrid {totals['hybrid_refused']} (of {len(labelled['nearmiss'])})"
    )


def _row(name: str, row: Counter[str]) -> None:
    size = row["cases"]
    print(
        f"{name:<8} {size:>5} {row['rules'] / size:>6.1%} {row['model'] / size:>6.1%}"
        f" {row['hybrid'] / size:>7.1%} {row['unsure']:>7}"
    )


if __name__ == "__main__":
    main()
