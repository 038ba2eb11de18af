"""The judge against human labels: agreement and Cohen's kappa on the suite's judge_calibration.yaml."""
import pytest

from harness.core.errors import Unavailable


def test_judge_agrees_with_human_labels(eval_run, record_calibration, check):
    try:
        result = eval_run.calibrate()
    except Unavailable as why:
        pytest.skip(str(why))
    record_calibration(result.summary())
    limits = eval_run.suite.config.calibration
    worst = "; ".join(f"{c.q} {c.candidate!r}: human {c.label}, judge {v.correct} ({v.explanation})"
                      for c, v in result.disagreements[:8])
    kappa = result.kappa if result.kappa is not None else float("-inf")
    check(result.agreement >= limits.min_agreement and kappa >= limits.min_kappa,
          f"judge {eval_run.judge.identity}: agreement {result.agreement:.1%} (min {limits.min_agreement:.0%}), "
          f"kappa {result.kappa} (min {limits.min_kappa}); {len(result.disagreements)} disagreements, e.g. {worst}")
