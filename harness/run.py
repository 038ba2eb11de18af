"""One evaluation in one process: each selected system's answers and verdicts, on the shared models
(harness.contexts). Every selected system asks for its answers before the first is needed, and each
model generates what was asked of it in one batched pass (answering.Pool).
"""
from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Iterable, NamedTuple, Sequence

from harness.contexts import SharedModels, change_contexts, check_lora_targets, make_run_judge
from harness.core import progress
from harness.core.cache import DEFAULT_DIR, cache_key
from harness.core.memory import peak_rss
from harness.core.errors import HarnessError, PromptTooLong, Unavailable, did_you_mean
from harness.inputs.config import Question
from harness.inputs.evidence import Span, evidence_rank
from harness.judges import Prefetching, Verdict
from harness.judges.changes import ChangeClass, change_class, question_values
from harness.judges.calibration import Agreement, Gap, grade_candidates, system_gaps
from harness.judges.replay import MissingVerdict, ReplayJudge
from harness.judges.reviews import REVIEWS_FILE, load_reviews
from harness.models.answering import Pool, asking
from harness.retrieval import Hit
from harness.suite import Suite
from systems import KINDS, SystemSpec
from systems.base import Answer, System, retriever_of


class Case(NamedTuple):
    system: str
    question: Question  # as the condition has it: after a change, with its new gold
    condition: str | None = None  # the change study's (CONDITIONS); None: the ordinary run


# The change study (a suite with a reviewed change set): after the documents change, every system answers
# the changed questions with the corpus re-indexed and its adapters as they were trained (stale); systems
# that train answer them again with their adapters brought up to date (refreshed), and answer the other
# questions too (control: did updating break what was right?).
CONDITIONS = ("stale", "refreshed", "control")
CONTEXT_OF = {"stale": "stale", "refreshed": "refreshed", "control": "refreshed"}  # condition -> its Context


def select_systems(suite: Suite, names: str | None) -> list[SystemSpec]:
    """The suite's systems, or those named in a comma-separated list (validated); built-in names
    work on any suite."""
    if not names:
        return [suite.system(name) for name in suite.default_systems]
    known = [s.name for s in suite.systems]
    chosen = []
    for name in dict.fromkeys(n.strip() for n in names.split(",") if n.strip()):  # a repeated name runs once
        if name not in known:
            raise HarnessError(f"--systems: unknown system {name!r}{did_you_mean(name, known)}")
        chosen.append(suite.system(name))
    return chosen


def _label(system: str, condition: str | None) -> str:
    return system if condition is None else f"{system}, {condition}"


def _scoped(system: str, condition: str | None, err: Exception) -> HarnessError:
    """``err`` as one line that names the system (and condition) once: some of a system's own checks
    (RAFT's planner) name the system already."""
    message = str(err).removeprefix(f"system {system}: ")
    return HarnessError(f"system {_label(system, condition)}: {message}")


def _together_label(askers: Sequence[tuple[str, str | None]]) -> str:
    """"raft (refreshed, control), together": the systems and conditions whose answers one call generates."""
    names = list(dict.fromkeys(name for name, _ in askers))
    conditions = list(dict.fromkeys("ordinary" if c is None else c for _, c in askers))
    who = ", ".join(names) if len(names) <= 3 else f"{', '.join(names[:2])} and {len(names) - 2} more"
    return f"{who} ({', '.join(conditions)}), together" if len(askers) > 1 else _label(*askers[0])


def crashed_before(system: str, err: Exception) -> HarnessError:
    """The one line that later tests of a crashed system show: the first one showed the traceback."""
    first = (str(err).strip().splitlines() or [""])[0]
    return HarnessError(f"system {system} crashed earlier in this run: {type(err).__name__}: {first} "
                        "(traceback in its first failed test)")


class EvalRun:
    """The selected systems of one suite: each built once, answering its selected questions in one
    batched pass, its answers graded by the judge (or a human review)."""

    def __init__(self, suite: Suite, systems: Sequence[SystemSpec], *, generator: str | None = None,
                 judge: str | None = None, judge_replay: str | Path | None = None,
                 cache_dir: str | Path = DEFAULT_DIR, no_train: bool = False, shard: bool = False):
        self.suite = suite
        self.systems = list(systems)
        self.models = SharedModels(suite, generator, cache_dir, no_train, shard)
        self.contexts = change_contexts(self.models, no_train, shard)
        self.judge = make_run_judge(self.models, judge, judge_replay)
        self.reviews = load_reviews(suite.root / REVIEWS_FILE, suite.questions)
        self._built: dict[tuple[str, str | None], System | Exception] = {}  # (system, Context) ->
        self._answers: dict[tuple[str, str | None], dict[str, Answer] | Exception] = {}  # (system, condition) ->
        self.wanted: dict[tuple[str, str | None], list[str]] = {}  # (system, condition) -> question ids selected
        self.reported_training: set[tuple] = set()  # (system, refreshed) whose training log this process reported
        self.peak_mb: dict[str, float | None] = {}  # system -> peak memory while it built and answered
        # (system, condition) -> seconds to chunk and index the corpus (after the change: the new one), first build
        self.index_seconds: dict[tuple[str, str | None], float] = {}
        check_lora_targets(self.models, [(f"system {s.name}", s.options) for s in self.systems])
        self.pool = Pool()  # the answers of the selected systems, generated together (answer_together)
        self.together = True  # False: each system's conditions together, but each system alone (xdist workers)
        self._together: set[str] = set()  # systems whose answers were asked together

    def cost(self, name: str) -> dict:
        """What this process measured of a system's cost (results.records.Results reads it)."""
        return {"index_seconds": self.index_seconds.get((name, None)), "peak_rss_mb": self.peak_mb.get(name),
                "reindex_seconds": self.index_seconds.get((name, "stale"))}

    def _measured(self, name: str, condition: str | None):
        """The peak memory of a system's own work: the ordinary run's. The change study runs later in a
        process that has grown with every system before it, and its memory is no cost of the system."""
        return peak_rss(self.peak_mb, name) if condition is None else contextlib.nullcontext()

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

    def _index(self, name: str, system: System, condition: str | None = None) -> None:
        """Before a system's first retrieval: index the corpus now, timed, the first time these retrieval
        settings meet this corpus; the time is kept in the cache, so a rerun reports what a change to the
        documents costs. A failure surfaces in the test that retrieves, as it would without the timing."""
        retriever = retriever_of(system)
        condition = condition and "stale"  # every condition after the change retrieves from one new corpus
        if retriever is None or (name, condition) in self.index_seconds:
            return
        key = cache_key("index-seconds", retriever.identity)
        entry = self.models.cache.get("cost", key)
        if entry is None:
            start = time.perf_counter()
            retriever.prepare()
            entry = {"seconds": round(time.perf_counter() - start, 3)}
            self.models.cache.put("cost", key, entry)
        self.index_seconds[(name, condition)] = entry["seconds"]

    @property
    def self_grading(self) -> bool:
        """The judge's model is the model whose answers it grades."""
        return self.judge.model is not None and self.judge.model == self.models.generator.identity

    def suite_of(self, condition: str | None) -> Suite:
        """The suite as a condition reads it: after the change, its new documents and gold."""
        return self.suite if condition is None else self.suite.change.after

    def cases(self, retrieval: bool) -> Iterable[Case]:
        for spec in self.systems:
            if retrieval and not spec.retrieves:
                continue
            for q in self.suite.questions:
                if not retrieval or q.evidence:
                    yield Case(spec.name, q)

    def change_cases(self) -> Iterable[Case]:
        """The change study's cases, when the suite has a change set: see CONDITIONS."""
        if self.suite.change is None:
            return
        changed = self.suite.change.changed
        after = self.suite.change.after.questions
        for condition in CONDITIONS:
            for spec in self.systems:
                if condition != "stale" and not KINDS.get(spec.kind).trains:
                    continue  # re-indexing is all a system that does not train has to do
                for q in after:
                    if (q.id in changed) == (condition != "control"):
                        yield Case(spec.name, q, condition)

    def prepare(self, name: str, condition: str | None = None) -> System:
        """The system built, and its corpus indexed (timed) when it retrieves: what `harness train` leaves
        in the cache for the shards of a run."""
        system = self.system(name, condition)
        self._index(name, system, condition)
        return system

    def system(self, name: str, condition: str | None = None) -> System:
        """The built system (as a condition of the change study has it); raises Unavailable (remembered)
        when it cannot run here."""
        built_in = CONTEXT_OF.get(condition)
        if (name, built_in) not in self._built:
            spec = self.suite.system(name)
            try:
                with progress.scope(_label(name, built_in)), self._measured(name, built_in):
                    self._built[name, built_in] = KINDS.get(spec.kind).build(name, spec.options,
                                                                            self.contexts[built_in])
            except Unavailable as why:
                self._built[name, built_in] = why
            except HarnessError as err:  # one line, the same in every test of the system
                self._built[name, built_in] = _scoped(name, None, err)
            except Exception as err:  # remembered: built once, its traceback shown once
                self._built[name, built_in] = err
                raise
        built = self._built[name, built_in]
        if isinstance(built, (Unavailable, HarnessError)):
            raise built
        if isinstance(built, Exception):
            raise crashed_before(name, built)
        return built

    def answer_together(self, system: str) -> None:
        """Before a system's first answer: each selected system (or with ``together`` off, each condition
        of this one) asks for its missing answers, and each model generates what was asked of it in one
        call (answering.Pool). A system that fails here fails again in its own tests, which report it."""
        if system in self._together:
            return
        asking_now = [at for at in self.wanted if at[0] not in self._together and (self.together or at[0] == system)]
        self._together.update([system, *(name for name, _ in asking_now)])
        self.pool.deferring = True
        with asking(self.pool):
            for at in asking_now:
                self.pool.asker = at
                questions = self._questions(at, self.wanted[at])
                try:
                    with progress.scope(_label(*at)):
                        self._answers_of(*at, questions)
                except Exception as err:  # kept as its tests will report it
                    self._keep_failure(at, questions, err)
        self.pool.deferring = False
        with asking(self.pool):
            for identity in list(self.pool.asked):
                self._generate_pooled(identity)

    def _generate_pooled(self, identity: str) -> None:
        askers = self.pool.askers.pop(identity)
        peak: dict[str, float] = {}
        try:
            with progress.scope(_together_label(askers)), peak_rss(peak, "pool"):
                self.pool.generate(identity)
        except Exception:  # each system generates what is still missing itself, and reports the failure
            return
        for name, condition in askers:  # the memory of the generation a system's answers came from
            if condition is None and peak.get("pool") is not None:
                self.peak_mb[name] = max(self.peak_mb.get(name) or 0.0, peak["pool"])

    def _questions(self, at: tuple[str, str | None], ids: Sequence[str]) -> list[Question]:
        return [q for q in self.suite_of(at[1]).questions if q.id in set(ids)]

    def _answers_of(self, name: str, condition: str | None, questions: Sequence[Question]) -> list[Answer]:
        system = self.system(name, condition)
        with self._measured(name, condition):
            self._index(name, system, condition)
            return system.answer(questions)

    def _keep_failure(self, at: tuple[str, str | None], questions: Sequence[Question], err: Exception) -> None:
        """A failure as each test of ``at`` reports it: one line for what the user can act on; a crash is
        left to happen again in the first test, with its traceback (what could not run stays remembered)."""
        scope = _label(*at)
        if isinstance(err, PromptTooLong):
            qid = next((q.id for q in questions if q.question == err.question), "?")
            self._answers[at] = HarnessError(f"system {scope}, question {qid}: {err}")
        elif isinstance(err, HarnessError):
            self._answers[at] = _scoped(*at, err)
        else:
            built = (at[0], CONTEXT_OF.get(at[1]))
            if isinstance(self._built.get(built), Exception) and not isinstance(self._built[built], Unavailable):
                del self._built[built]

    def answer(self, case: Case) -> Answer:
        at = (case.system, case.condition)
        self.answer_together(case.system)
        if at not in self._answers:
            questions = self._questions(at, self.wanted.get(at) or [case.question.id])
            try:
                with progress.scope(_label(*at)), asking(self.pool):
                    answers = self._answers_of(case.system, case.condition, questions)
                if case.condition is None:
                    self._keep_peak(case.system, fresh=any(not a.cached for a in answers))
                self._answers[at] = {q.id: a for q, a in zip(questions, answers)}
                self._prefetch_verdicts(questions, answers)
            except HarnessError as err:
                self._keep_failure(at, questions, err)
            except Exception as err:  # remembered: one failing batch, not one retry per test
                self._answers[at] = err
                raise
        batch = self._answers[at]
        if isinstance(batch, HarnessError):
            raise batch
        if isinstance(batch, Exception):
            raise crashed_before(case.system, batch)
        if case.question.id not in batch:  # not foreseen at collection
            batch[case.question.id] = self.system(case.system, case.condition).answer([case.question])[0]
        return batch[case.question.id]

    def _prefetch_verdicts(self, questions: Sequence[Question], answers: Sequence[Answer]) -> None:
        """Let a judge on a server grade the batch with requests in flight together. A failure is
        left for grade() to report, test by test."""
        if isinstance(self.judge, Prefetching):
            try:
                self.judge.prefetch([(q, a.text) for q, a in zip(questions, answers) if a.text is not None])
            except HarnessError:
                pass

    def grade(self, case: Case, answer: Answer) -> Verdict:
        # A review was made against the gold of its day: where the change moved the gold, the judge decides.
        moved = case.condition is not None and case.question.id in self.suite.change.changed
        try:
            judged = self.judge.grade(case.question, answer.text)
        except MissingVerdict as err:
            if moved or self.reviews.get(case.question.id, answer.text) is None:
                raise HarnessError(f"{err} (system {case.system})") from None
            judged = Verdict(None, f"no judge verdict: {err}")
        return judged if moved else self.reviews.overrule(case.system, case.question.id, answer.text, judged)

    def change_class(self, case: Case, answer: Answer, verdict: Verdict) -> ChangeClass:
        """What an answer to a changed question states (harness.judges.changes): its verdict under the new
        gold, the judge's under the old, and the edit's values."""
        change = self.suite.change
        edit = change.set.edit(change.changed[case.question.id])
        before = next(q for q in self.suite.questions if q.id == case.question.id)
        try:
            right_before = self.judge.grade(before, answer.text).correct
        except MissingVerdict:
            right_before = None
        return change_class(answer.text, verdict.correct, right_before, question_values(edit.old, before),
                            question_values(edit.new, case.question))

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
        system = self.system(case.system, case.condition)
        retriever = retriever_of(system)
        if retriever is None:
            raise HarnessError(f"system {case.system!r} does not retrieve")
        try:
            self._index(case.system, system, case.condition)
            return retriever.retrieve([case.question.question])[0]
        except HarnessError as err:
            raise _scoped(case.system, None, err) from None

    def evidence_rank(self, question: Question, hits: Sequence[Hit], condition: str | None = None) -> int | None:
        evidence = self.suite_of(condition).evidence[question.id]
        return evidence_rank(evidence, [Span(h.source, h.start, h.end) for h in hits])
