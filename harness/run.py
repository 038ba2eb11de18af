"""One evaluation in one process: the shared models, and each selected system's answers and verdicts.

Models load lazily and once: every system shares one generator, and embedders are shared by
name. A system answers all of its selected questions in one batched pass on first use.
"""
from __future__ import annotations

import os
import time
from functools import cached_property
from pathlib import Path
from typing import Iterable, NamedTuple, Sequence

from harness.core import progress
from harness.core.cache import DEFAULT_DIR, DiskCache, cache_key
from harness.core.memory import peak_rss
from harness.core.errors import HarnessError, PromptTooLong, Unavailable, did_you_mean
from harness.inputs.config import Question
from harness.inputs.evidence import Span, evidence_rank
from harness.judges import Judge, Verdict, make_judge
from harness.judges.calibration import Agreement, Gap, grade_candidates, system_gaps
from harness.judges.replay import MissingVerdict, ReplayJudge
from harness.judges.reviews import REVIEWS_FILE, load_reviews
from harness.models import Generator, make_generator
from harness.models.answering import Answerer
from harness.retrieval import Hit
from harness.retrieval.embedders import Embedder, make_embedder
from harness.suite import Suite
from harness.training.adapters import Adapters
from systems import KINDS, SystemSpec
from systems.base import Answer, System


class Case(NamedTuple):
    system: str
    question: Question


def select_systems(suite: Suite, names: str | None) -> list[SystemSpec]:
    """The suite's systems, or those named in a comma-separated list (validated); built-in names
    work on any suite."""
    if not names:
        return [suite.system(name) for name in suite.default_systems]
    known = [s.name for s in suite.systems]
    chosen = []
    for name in (n.strip() for n in names.split(",") if n.strip()):
        if name not in known:
            raise HarnessError(f"--systems: unknown system {name!r}{did_you_mean(name, known)}")
        chosen.append(suite.system(name))
    return chosen


def crashed_before(system: str, err: Exception) -> HarnessError:
    """The one line that later tests of a crashed system show: the first one showed the traceback."""
    first = (str(err).strip().splitlines() or [""])[0]
    return HarnessError(f"system {system} crashed earlier in this run: {type(err).__name__}: {first} "
                        "(traceback in its first failed test)")


class SharedModels:
    """The models of one process, each loaded on first use and shared: one generator per spec (a
    judge on the suite's model shares its weights), embedders by name, LoRA adapters by settings.
    It is the Context that system kinds and judges are built with."""

    def __init__(self, suite: Suite, generator: str | None = None, cache_dir: str | Path = DEFAULT_DIR,
                 no_train: bool = False, shard: bool = False):
        # Models come from local paths and the local HF cache only (see harness.models.hub);
        # set before transformers/huggingface_hub are imported, which read it once.
        os.environ["HF_HUB_OFFLINE"] = "1"
        self.suite = suite
        self.generator_spec = generator or suite.config.generator
        self.cache = DiskCache(cache_dir)
        self.adapters = Adapters(lambda: self.generator, suite, self.cache, no_train, shard)
        self._generators: dict[str, Generator] = {}
        self._embedders: dict[str, Embedder] = {}

    def generator_for(self, spec: str) -> Generator:
        if spec not in self._generators:
            self._generators[spec] = make_generator(spec, self.suite.config.generation, self.cache.root)
        return self._generators[spec]

    @property
    def generator(self) -> Generator:
        return self.generator_for(self.generator_spec)

    @cached_property
    def answerer(self) -> Answerer:
        cfg = self.suite.config
        return Answerer(lambda: self.generator, self.generator.identity, cfg.generation,
                        cfg.instructions, cfg.examples, self.cache)

    def embedder(self, name: str) -> Embedder:
        if name not in self._embedders:
            self._embedders[name] = make_embedder(name, self.generator)
        return self._embedders[name]


def make_run_judge(models: SharedModels, name: str | None = None, replay: str | Path | None = None) -> Judge:
    """The suite's judge (or the one named), or a replay of a results.json's verdicts."""
    if replay:
        return ReplayJudge(replay)
    config = models.suite.config.judge
    return make_judge(config.model_copy(update={"name": name}) if name else config, models)


class EvalRun:
    """The selected systems of one suite: each built once, answering its selected questions in one
    batched pass, its answers graded by the judge (or a human review)."""

    def __init__(self, suite: Suite, systems: Sequence[SystemSpec], *, generator: str | None = None,
                 judge: str | None = None, judge_replay: str | Path | None = None,
                 cache_dir: str | Path = DEFAULT_DIR, no_train: bool = False, shard: bool = False):
        self.suite = suite
        self.systems = list(systems)
        self.models = SharedModels(suite, generator, cache_dir, no_train, shard)
        self.judge = make_run_judge(self.models, judge, judge_replay)
        self.reviews = load_reviews(suite.root / REVIEWS_FILE, suite.questions)
        self._built: dict[str, System | Exception] = {}
        self._answers: dict[str, dict[str, Answer] | Exception] = {}
        self.wanted: dict[str, list[str]] = {}  # system -> question ids selected in this session
        self.reported_training: set[str] = set()  # systems whose training log this process reported
        self.peak_mb: dict[str, float | None] = {}  # system -> peak memory while it built and answered
        self.index_seconds: dict[str, float] = {}  # system -> seconds to chunk and index the corpus, first build

    def cost(self, name: str) -> dict:
        """What this process measured of a system's cost (results.records.Results reads it)."""
        return {"index_seconds": self.index_seconds.get(name), "peak_rss_mb": self.peak_mb.get(name)}

    def _keep_peak(self, name: str, fresh: bool) -> None:
        """The peak memory of the run that generated a system's answers, kept in the cache: a rerun from
        the cache loads no model, and reports the cost of the run that did the work."""
        spec = self.suite.system(name)
        key = cache_key("peak", spec.kind, spec.options.model_dump(mode="json"), self.suite.corpus_hash,
                        self.models.generator.identity)
        if fresh and name in self.peak_mb:
            self.models.cache.put("cost", key, {"peak_rss_mb": self.peak_mb[name]})
        elif not fresh:
            entry = self.models.cache.get("cost", key)
            self.peak_mb[name] = entry["peak_rss_mb"] if entry else None

    def _index(self, name: str, system: System) -> None:
        """Before a system's first retrieval: index the corpus now, timed, the first time these retrieval
        settings meet this corpus; the time is kept in the cache, so a rerun reports what a change to the
        documents costs. A failure surfaces in the test that retrieves, as it would without the timing."""
        retriever = getattr(system, "retriever", None)
        if retriever is None or name in self.index_seconds:
            return
        key = cache_key("index-seconds", self.suite.system(name).options.model_dump(mode="json"),
                        self.suite.corpus_hash)
        entry = self.models.cache.get("cost", key)
        if entry is None:
            start = time.perf_counter()
            retriever.prepare()
            entry = {"seconds": round(time.perf_counter() - start, 3)}
            self.models.cache.put("cost", key, entry)
        self.index_seconds[name] = entry["seconds"]

    @property
    def self_grading(self) -> bool:
        """The judge's model is the model whose answers it grades."""
        return self.judge.model is not None and self.judge.model == self.models.generator.identity

    def cases(self, retrieval: bool) -> Iterable[Case]:
        for spec in self.systems:
            if retrieval and not spec.retrieves:
                continue
            for q in self.suite.questions:
                if not retrieval or q.evidence:
                    yield Case(spec.name, q)

    def system(self, name: str) -> System:
        """The built system; raises Unavailable (remembered) when it cannot run here."""
        if name not in self._built:
            spec = self.suite.system(name)
            try:
                with progress.scope(name), peak_rss(self.peak_mb, name):
                    self._built[name] = KINDS.get(spec.kind).build(name, spec.options, self.models)
            except Unavailable as why:
                self._built[name] = why
            except Exception as err:  # remembered: built once, its traceback shown once
                self._built[name] = err
                raise
        built = self._built[name]
        if isinstance(built, Unavailable):
            raise built
        if isinstance(built, Exception):
            raise crashed_before(name, built)
        return built

    def answer(self, case: Case) -> Answer:
        if case.system not in self._answers:
            ids = set(self.wanted.get(case.system) or [case.question.id])
            questions = [q for q in self.suite.questions if q.id in ids]
            try:
                system = self.system(case.system)
                with progress.scope(case.system), peak_rss(self.peak_mb, case.system):
                    self._index(case.system, system)
                    answers = system.answer(questions)
                self._keep_peak(case.system, fresh=any(not a.cached for a in answers))
                self._answers[case.system] = {q.id: a for q, a in zip(questions, answers)}
                self._prefetch_verdicts(questions, answers)
            except PromptTooLong as err:
                qid = next((q.id for q in questions if q.question == err.question), "?")
                self._answers[case.system] = HarnessError(f"system {case.system}, question {qid}: {err}")
            except HarnessError as err:
                self._answers[case.system] = HarnessError(f"system {case.system}: {err}")
            except Exception as err:  # remembered: one failing batch, not one retry per test
                self._answers[case.system] = err
                raise
        batch = self._answers[case.system]
        if isinstance(batch, HarnessError):
            raise batch
        if isinstance(batch, Exception):
            raise crashed_before(case.system, batch)
        if case.question.id not in batch:  # not foreseen at collection
            batch[case.question.id] = self.system(case.system).answer([case.question])[0]
        return batch[case.question.id]

    def _prefetch_verdicts(self, questions: Sequence[Question], answers: Sequence[Answer]) -> None:
        """Let a judge on a server grade the batch with requests in flight together. A failure is
        left for grade() to report, test by test."""
        prefetch = getattr(self.judge, "prefetch", None)
        if prefetch is not None:
            try:
                prefetch([(q, a.text) for q, a in zip(questions, answers) if a.text is not None])
            except HarnessError:
                pass

    def grade(self, case: Case, answer: Answer) -> Verdict:
        try:
            judged = self.judge.grade(case.question, answer.text)
        except MissingVerdict as err:
            if self.reviews.get(case.question.id, answer.text) is None:
                raise HarnessError(f"{err} (system {case.system})") from None
            judged = Verdict(None, f"no judge verdict: {err}")
        return self.reviews.overrule(case.system, case.question.id, answer.text, judged)

    def _grade_labelled(self, labelled, file: str) -> tuple[list, Agreement]:
        if isinstance(self.judge, ReplayJudge):
            raise Unavailable("--judge-replay grades from a file: there is no judge to calibrate")
        if labelled is None:
            raise Unavailable(f"the suite has no {file}; add human-labelled answers to measure the judge")
        return grade_candidates(self.judge, self.suite.questions, labelled)

    def calibrate(self) -> Agreement:
        """Grade the suite's human-labelled candidates; Unavailable when the suite has none."""
        return self._grade_labelled(self.suite.calibration, self.suite.config.calibration.file)[1]

    def grade_real_answers(self) -> tuple[Agreement, dict[str, Gap]]:
        """Grade the answers the systems gave, labelled by hand: agreement, and each system's gap."""
        answers = self.suite.real_answers
        verdicts, agreement = self._grade_labelled(answers, self.suite.config.real_answers.file)
        return agreement, system_gaps(answers, verdicts)

    def retrieve(self, case: Case) -> tuple[Hit, ...]:
        system = self.system(case.system)
        retriever = getattr(system, "retriever", None)
        if retriever is None:
            raise HarnessError(f"system {case.system!r} does not retrieve")
        try:
            self._index(case.system, system)
            return retriever.retrieve([case.question.question])[0]
        except HarnessError as err:
            raise HarnessError(f"system {case.system}: {err}") from None

    def evidence_rank(self, question: Question, hits: Sequence[Hit]) -> int | None:
        return evidence_rank(self.suite.evidence[question.id], [Span(h.source, h.start, h.end) for h in hits])
