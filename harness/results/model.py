"""The typed results of one run: ``RunReport``, whose serialization is results.json.

Like Inspect AI's EvalLog, the file stands alone: the spec (each question with its gold answer,
accepted forms and evidence; each system's resolved settings; the corpus hash; the generator and
judge; package versions and the git revision), the run block (what the tests recorded), every
answer, and the analysis computed from them once (harness/results/analysis.py). The scorecard,
report.html, the terminal summary, the gate, ``harness report`` and ``harness compare`` all read
one RunReport; none of them computes a figure. Older files migrate on read (migrate.py).
"""
from __future__ import annotations

import json
import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, model_serializer

from harness.inputs.config import Question

SCHEMA_VERSION = 3  # 3: self-contained (spec, persisted analysis, verdict); 2: the RunReport redesign

Interval = tuple[float, float]
Family = Literal["none", "retrieval", "fine-tuning", "both"]
FAMILY_NAMES: dict[str, str] = {"none": "no retrieval, no fine-tuning", "retrieval": "retrieval",
                                "fine-tuning": "fine-tuning", "both": "fine-tuning + retrieval"}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _without_none(handler, instance, optional: tuple[str, ...]) -> dict:
    """Optional keys appear only when set, as results.json has always written them."""
    data = handler(instance)
    return {k: v for k, v in data.items() if k not in optional or v is not None}


# --- what the run was: the spec ------------------------------------------------------------------

class SystemInfo(_Model):
    """A system as the run resolved it: its kind, family and every option (defaults filled in)."""

    name: str
    kind: str
    family: Family
    retrieves: bool
    settings: dict[str, Any]


class CorpusInfo(_Model):
    documents: int
    words: int
    hash: str


class JudgeLimits(_Model):
    """The gate's limits for the judge on one set of human labels (the suite's calibration or real answers)."""

    name: str  # the gate's "system" column: "judge" or "judge (real answers)"
    labels: Literal["calibration", "real_answers"]
    limits: dict[str, float]


class Environment(_Model):
    python: str
    platform: str
    cpu: str
    versions: dict[str, str]  # the packages that change answers
    git_revision: str | None  # of the project, "-dirty" when it had uncommitted changes
    generation: str | None = None  # how the generator computes, e.g. its dtype and why


class EvalSpec(_Model):
    suite: str
    suite_dir: str
    corpus: CorpusInfo
    questions: list[Question]
    systems: list[SystemInfo]  # the run's systems in the suite's order
    example_answers: list[str]  # the worked examples' answers: a system that repeats them says nothing
    thresholds: dict[str, dict[str, float]]
    judge_checks: list[JudgeLimits]
    generator: str
    judge: str
    judge_model: str | None
    self_grading: bool
    environment: Environment

    def system(self, name: str) -> SystemInfo | None:
        return next((s for s in self.systems if s.name == name), None)


# --- what the tests recorded: rows and the run block ----------------------------------------------

class Retrieved(_Model):
    source: str
    text: str
    score: float


class JudgeOpinion(_Model):
    """The judge's verdict on an answer a human review overruled; kept to measure the judge."""

    correct: bool | None
    explanation: str


class Row(_Model):
    """One system's answer to one question (one per seed for systems trained with several)."""

    system: str
    id: str
    answer: str | None
    correct: bool | None
    evidence_rank: int | None
    retrieved: list[Retrieved]
    explanation: str | None
    seconds: float | None
    verdict_source: str | None
    certain: bool | None
    judge: JudgeOpinion | None
    sampled: bool | None = None  # true: the human verdict is a random-sample review drawn for this system
    seed: int | None = None
    debris: str | None = None  # what the raw reply ran on into (a template marker, cut there; a second question)
    prompt_tokens: int | None = None  # the prompt's length in the generator's tokens, when it was counted

    @model_serializer(mode="wrap")
    def _serialize(self, handler):
        return _without_none(handler, self, ("sampled", "seed", "debris", "prompt_tokens"))


class AgreementSummary(_Model):
    """The judge against one set of human labels."""

    n: int
    agree: int
    agreement: float
    kappa: float | None
    unscored: int
    tp: int  # judge said correct, human too
    fp: int
    fn: int
    tn: int


class RealAnswersSummary(AgreementSummary):
    """The same on answers the systems really gave, with each system's judged minus labelled accuracy."""

    gaps: dict[str, float]
    max_gap: float


class TrainingLog(BaseModel):
    """A LoRA adapter's training log, as the trainer writes it (fields it adds later are kept)."""

    model_config = ConfigDict(extra="allow")

    train: list[tuple[float, float]]  # (step, loss)
    eval: list[tuple[float, float]]
    seconds: float
    examples: int
    examples_per_second: float
    settings: dict[str, Any]
    adapter: str | None = None
    seed: int | None = None
    seeds: list[TrainingLog] | None = None  # one log per seed, for systems trained with several

    def runs(self) -> list[TrainingLog]:
        return self.seeds or [self]


class SystemCost(_Model):
    """What the run measured about a system's cost, beyond its answers' seconds."""

    index_seconds: float | None = None  # chunking and indexing the corpus, the first time it was built
    peak_rss_mb: float | None = None  # the process's peak resident memory while it built and answered


class RunMeta(_Model):
    gate_enabled: bool
    skipped: dict[str, str]
    failed: dict[str, str]
    calibration: AgreementSummary | None
    real_answers: RealAnswersSummary | None = None
    training: dict[str, TrainingLog]
    costs: dict[str, SystemCost] = {}
    stale_reviews: dict[str, str] = {}  # system -> why some of its random-sample reviews no longer count
    compared_to: str | None = None  # the results.json this run was compared with (--compare-to)


# --- what the analysis computed --------------------------------------------------------------------

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


# --- two runs compared (compare.py) --------------------------------------------------------------

class Flip(_Model):
    id: str
    direction: Literal["right → wrong", "wrong → right"]
    old_answer: str | None
    new_answer: str | None


class SystemChange(_Model):
    system: str
    old: tuple[int, int]  # (right, scored) on the old run, all its questions
    new: tuple[int, int]
    paired: Paired  # new (a) against old (b), on the shared questions
    flips: list[Flip]
    settings: dict[str, tuple[Any, Any]]  # option -> (old, new)
    regression: str | None  # why it counts as a regression, else None

    @property
    def improved(self) -> bool:
        return self.paired.significant and self.paired.only_a > self.paired.only_b


class Comparison(_Model):
    old: str  # a label for each run: its file, as given
    new: str
    suite: str
    shared: int  # questions in both runs
    added: list[str]
    removed: list[str]
    gold_changed: list[str]  # shared questions whose gold answer or accepted forms changed
    run_changes: dict[str, tuple[Any, Any]]  # generator, judge, corpus, versions, revision: (old, new)
    systems: list[SystemChange]
    only_old: list[str]  # systems in one run only
    only_new: list[str]

    @property
    def regressions(self) -> list[SystemChange]:
        return [s for s in self.systems if s.regression]


class Analysis(_Model):
    systems: dict[str, SystemResult]  # in the suite's order
    verdict: Verdict
    gate: list[GateRow]
    paired: list[Paired]
    seeds: dict[str, SeedResult]
    reviewed: dict[str, ReviewedAgreement]  # the judge against human verdicts, per system; "" -> all together
    attribution: dict[str, Attribution]
    answer_bias: AnswerBias
    judge_status: str  # where the judge stands on this suite's answers
    warnings: list[str]
    comparison: Comparison | None = None  # against an earlier run (--compare-to)

    @model_serializer(mode="wrap")
    def _serialize(self, handler):
        return _without_none(handler, self, ("comparison",))


class RunReport(_Model):
    """results.json: everything one run produced, and everything its renderers need."""

    schema_version: int = SCHEMA_VERSION
    spec: EvalSpec
    run: RunMeta
    results: list[Row]
    analysis: Analysis
    migrated_from: int | None = None  # the schema_version of the file this was read from, when older

    @model_serializer(mode="wrap")
    def _serialize(self, handler):
        return _without_none(handler, self, ("migrated_from",))

    @property
    def suite(self) -> str:
        return self.spec.suite

    @property
    def first_seed(self) -> list[Row]:
        """One row per (system, question): a system trained with several seeds keeps its first seed's."""
        return first_seed(self.results)

    def to_json(self) -> str:
        """Strict JSON: a reader in any language can parse it."""
        return json.dumps(_finite(self.model_dump(mode="json")), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def first_seed(rows: list[Row]) -> list[Row]:
    first: dict[str, int] = {}
    for r in rows:
        if r.seed is not None:
            first.setdefault(r.system, r.seed)
    return [r for r in rows if (r.seed if r.seed is not None else first.get(r.system)) == first.get(r.system)]


def _finite(value: Any) -> Any:
    """NaN and infinities have no JSON spelling: they become null (the "no value" of the contract)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value
