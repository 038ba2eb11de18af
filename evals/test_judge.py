"""The judge against human labels: agreement and Cohen's kappa on the suite's judge_calibration.yaml
(adversarial candidates) and on judge_real_answers.yaml (answers the systems gave, labelled by hand)."""
import pytest

from harness.core.errors import Unavailable
from harness.judges.calibration import real_answers_summary


def _examples(disagreements) -> str:
    return "; ".join(f"{c.q} {c.candidate!r}: human {c.label}, judge {v.correct} ({v.explanation})"
                     for c, v in disagreements[:8])


def test_judge_agrees_with_human_labels(eval_run, record_calibration, check):
    try:
        result = eval_run.calibrate()
    except Unavailable as why:
        pytest.skip(str(why))
    record_calibration(result.summary())
    limits = eval_run.suite.config.calibration
    kappa = result.kappa if result.kappa is not None else float("-inf")
    check(result.agreement >= limits.min_agreement and kappa >= limits.min_kappa,
          f"judge {eval_run.judge.identity}: agreement {result.agreement:.1%} (min {limits.min_agreement:.0%}), "
          f"kappa {result.kappa} (min {limits.min_kappa}); {len(result.disagreements)} disagreements, "
          f"e.g. {_examples(result.disagreements)}")


def test_judge_on_the_systems_real_output(eval_run, record_calibration, check):
    """No system's judged accuracy may stray far from its labelled one, on the answers systems really give."""
    try:
        result, gaps = eval_run.grade_real_answers()
    except Unavailable as why:
        pytest.skip(str(why))
    summary = real_answers_summary(result, gaps)
    record_calibration(summary, labels="real_answers")
    limits = eval_run.suite.config.real_answers
    kappa = result.kappa if result.kappa is not None else float("-inf")
    off = ", ".join(f"{name} {g.points:+.1f}" for name, g in gaps.items() if abs(g.points) > 100 * limits.max_gap)
    held = result.agreement >= limits.min_agreement and kappa >= limits.min_kappa
    check(held and summary["max_gap"] <= limits.max_gap,
          f"judge {eval_run.judge.identity} on real answers: agreement {result.agreement:.1%} "
          f"(min {limits.min_agreement:.0%}), kappa {kappa:.3f} (min {limits.min_kappa}); systems off by more "
          f"than {100 * limits.max_gap:.1f} points: {off or 'none'}; {len(result.disagreements)} disagreements, "
          f"e.g. {_examples(result.disagreements)}")
