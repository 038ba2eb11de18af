"""What the analysis computed for the ordinary run: per system, paired tests, the gate and the verdict."""
from __future__ import annotations

from typing import Literal

from harness.results.model.base import Family, Interval, _Model


class Paired(_Model):
    """McNemar's exact test of two systems on the questions both were scored on, and the paired
    difference a − b of their accuracies with its 95% interval."""

    a: str
    b: str
    n: int
    only_a: int  # a right, b wrong
    only_b: int
    p_value: float | None
    difference: float | None = None
    difference_ci: Interval | None = None

    @property
    def significant(self) -> bool:
        return self.p_value is not None and self.p_value < 0.05

    @property
    def verdict(self) -> str:
        if self.p_value is None:
            return "no paired questions"
        if self.significant:
            better = self.a if self.only_a > self.only_b else self.b
            return f"{better} is better (significant at 5%, n={self.n})"
        return f"not significant at n={self.n}"


class GateRow(_Model):
    system: str
    metric: str
    threshold: float
    value: float | None
    status: str  # "pass", "FAIL", or "not selected" (the user left the system out of this run)
    note: str = ""
    ceiling: bool = False  # the value must not exceed the threshold (else: must reach it)


class Corrected(_Model):
    """Judge-corrected accuracy from random-sample reviews (ppi.py)."""

    value: float
    low: float | None  # None when no interval can be estimated
    high: float | None
    reviewed: int
    judged: float  # the judge's accuracy over all answers, unscored as wrong


class ReviewedAgreement(_Model):
    n: int  # answers with a human verdict
    agree: int  # the judge said the same (an unscored judge verdict disagrees)
    kappa: float | None

    @property
    def agreement(self) -> float:
        return self.agree / self.n if self.n else 0.0


class RetrievalResult(_Model):
    k: int
    n: int  # questions with evidence whose retrieval was checked
    recall: float | None
    recall_ci: Interval | None
    mrr: float | None


class PriorGroup(_Model):
    n: int
    correct: int


class TemplateDebris(_Model):
    """A system whose answers often ran on into chat-template markers or a second question: the model
    was likely prompted in a chat template it does not know."""

    answers: int  # answers that ran on
    of: int  # the system's answers
    found: dict[str, int]  # what they ran on into -> in how many answers, most first

    def line(self, system: str) -> str:
        """The warning, as every renderer shows it."""
        found = ", ".join(f"{what} in {n}" for what, n in self.found.items())
        return (f"{system}: {self.answers} of {self.of} answers ran on into chat-template debris ({found}); "
                "the model likely does not know its chat template (answers are cut at its markers). "
                "Fix: generation.prompt_style: completion, or a chat model")


class Cost(_Model):
    """A system's cost, as measured: what a change to the documents costs (training, re-indexing), and
    what each answer costs."""

    train_seconds: float | None  # every seed's adapter; None for systems that do not train
    index_seconds: float | None  # None for systems that do not retrieve, or when not measured
    seconds_per_answer: float | None
    prompt_tokens: float | None  # mean, over the answers whose prompt was counted
    peak_rss_mb: float | None


class SystemResult(_Model):
    """Everything about one system's answers, computed once."""

    family: Family
    n: int  # answers the judge scored (every seed's)
    correct: int
    accuracy: float
    accuracy_ci: Interval | None
    unscored: int
    answer_seconds: float  # generation time recorded when the answers were computed
    retrieval: RetrievalResult | None = None
    seed_accuracy: dict[int, float] | None = None
    by_prior: dict[Literal["known", "unknown"], PriorGroup] | None = None
    forgotten: list[str] | None = None
    corrected: Corrected | None = None
    template_debris: TemplateDebris | None = None
    cost: Cost


class SeedResult(_Model):
    per_seed: dict[int, float]
    mean: float
    sd: float
    against: dict[str, str]  # other system -> the per-seed McNemar verdict


class Attribution(_Model):
    """Retrieval hit or miss against answer right or wrong, over the questions with evidence."""

    hit_right: int
    hit_wrong: int  # the model's errors
    miss_right: int
    miss_wrong: int  # retrieval's errors

    @property
    def n(self) -> int:
        return self.hit_right + self.hit_wrong + self.miss_right + self.miss_wrong


class AnswerBias(_Model):
    """The accuracy of always giving the most common gold answer of each answer type (yes/no,
    number, other): what a system earns by a bias alone."""

    accuracy: float
    correct: int
    n: int
    by_type: dict[str, tuple[str, int, int]]  # type -> (its most common gold answer, how often, questions)


class Power(_Model):
    """How sure the comparison of the two best systems can be at this n."""

    a: str
    b: str
    n: int
    discordant: float  # the share of questions where exactly one of the two is right
    observed: float  # the observed difference a − b
    detectable: float | None  # the smallest difference with 80% power at 5% at this n and discordance
    needed: int | None  # questions that would give the observed difference 80% power
    method: str


class Margin(_Model):
    """The winner against the best system of another family (or the runner-up, or the answer bias)."""

    other: str
    family: Family | Literal["answer bias"]
    paired: Paired
    seeds: int | None = None  # seeds compared, when the systems were trained with several
    seeds_held: int | None = None  # seeds in which the difference was significant in the winner's favour

    @property
    def holds(self) -> bool:
        won = self.paired.significant and self.paired.only_a > self.paired.only_b
        return won and (self.seeds is None or self.seeds_held == self.seeds)


class CorrectedVerdict(_Model):
    """The verdict again on judge-corrected accuracies (random-sample reviews), and whether the two agree."""

    winner: str
    family: Family
    # agrees: same winner's family and every margin that held is confirmed; unconfirmed: same family, but a
    # margin that held is not once the judge's error is counted; disagrees: another family wins
    agreement: Literal["agrees", "unconfirmed", "disagrees"]
    uncorrected: list[str]  # systems the verdict compares that have no random-sample reviews
    line: str


class Verdict(_Model):
    """The answer to "retrieval, fine-tuning, or both?" for this run, in one sentence and its reasons."""

    winner: str | None
    family: Family | None
    best: dict[str, str]  # family -> its best system
    margins: list[Margin]  # the winner against each other family's best
    power: Power | None
    headline: str  # the one sentence
    details: list[str]  # how sure: seeds, power, answer bias, the corrected verdict's line
    corrected: CorrectedVerdict | None = None  # where random-sample reviews exist
