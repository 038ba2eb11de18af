"""Load a suite folder (suite.yaml, questions.yaml, corpus/) into one validated object."""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from harness.core.errors import HarnessError, did_you_mean
from harness.core.metrics import METRICS
from harness.inputs.changes import Applied, ChangeSet, apply_changes, change_sets, load_change_set
from harness.inputs.config import Question, SuiteConfig
from harness.inputs.corpus import Document, corpus_hash, read_corpus
from harness.inputs.evidence import Span, find_span
from harness.inputs.trainset import TrainPair, load_train_pairs
from harness.inputs.validation import validate
from harness.inputs.yamlfile import LineDict, load_yaml
from harness.judges.calibration import Candidate, RealAnswer, load_candidates, load_real_answers
from systems import BUILTIN, KINDS, SystemSpec


@dataclass(frozen=True)
class Suite:
    root: Path
    name: str
    config: SuiteConfig
    questions: tuple[Question, ...]
    documents: tuple[Document, ...]
    systems: tuple[SystemSpec, ...]  # the suite's systems in order, then the built-ins it does not list
    default_systems: tuple[str, ...]  # what runs when none are selected: the systems the suite lists
    evidence: dict[str, tuple[Span, ...]]  # question id -> where its evidence occurs
    corpus_hash: str
    calibration: tuple[Candidate, ...] | None  # human-labelled candidates for the judge, if any
    real_answers: tuple[RealAnswer, ...] | None  # answers the systems gave, labelled by hand, if any
    train_pairs: tuple[TrainPair, ...] | None  # question/answer pairs for fine-tuning, if any
    change: "Change | None" = None  # a reviewed change set of the documents, if any: the change study

    def with_generation(self, **changes) -> "Suite":
        """The same suite with generation settings overridden (from the command line)."""
        generation = self.config.generation.model_copy(update=changes)
        change = self.change and replace(self.change, after=self.change.after.with_generation(**changes))
        return replace(self, config=self.config.model_copy(update={"generation": generation}), change=change)

    def system(self, name: str) -> SystemSpec:
        for spec in self.systems:
            if spec.name == name:
                return spec
        raise HarnessError(f"unknown system {name!r}{did_you_mean(name, [s.name for s in self.systems])}")


@dataclass(frozen=True)
class Change:
    """A reviewed change set and the suite as it reads after it (its own ``change`` is None)."""

    set: ChangeSet
    applied: Applied
    after: Suite

    @property
    def changed(self) -> dict[str, str]:
        """Changed question id -> the edit that moves its gold."""
        return self.applied.changed


def _change_file(root: Path, config: SuiteConfig, path: Path) -> Path | None:
    files = change_sets(root)
    if config.changes.file is None:
        if len(files) > 1:
            raise HarnessError(f"{len(files)} change sets in {root / 'changes'}: name one with changes: {{file: ...}}",
                               path=path)
        return files[0] if files else None
    chosen = root / "changes" / config.changes.file
    if not chosen.is_file():
        raise HarnessError(f"changes.file: no change set {config.changes.file!r}"
                           f"{did_you_mean(config.changes.file, [f.name for f in files])}", path=path)
    return chosen


def _load_change(suite: Suite, config_path: Path) -> Suite:
    """The suite with its change set, validated against its documents, questions and pairs."""
    file = _change_file(suite.root, suite.config, config_path)
    if file is None:
        return suite
    changes = load_change_set(file)
    applied = apply_changes(changes, suite.documents, suite.questions, suite.evidence, suite.train_pairs)
    lines = {q.id: 0 for q in applied.questions}
    after = replace(suite, documents=applied.documents, questions=applied.questions, train_pairs=applied.train_pairs,
                    evidence=_locate_evidence(applied.questions, lines, applied.documents, file),
                    corpus_hash=corpus_hash(applied.documents))
    return replace(suite, change=Change(changes, applied, after))


def _load_questions(path: Path, required: bool = True) -> tuple[list[Question], dict[str, int]]:
    if not path.is_file():
        if not required:
            return [], {}
        raise HarnessError(f"questions file is missing: draft questions from corpus/ with `harness draft --suite "
                           f"{path.parent}`, then accept them with `harness review --drafts --suite {path.parent}`",
                           path=path)
    raw = load_yaml(path)
    if not isinstance(raw, list) or not raw:
        raise HarnessError("expected a non-empty list of questions", path=path)
    questions, lines = [], {}
    for entry in raw:
        qid = entry.get("id") if isinstance(entry, dict) else None
        question = validate(Question, entry, path, item=f"question {qid}" if qid else None)
        if question.id in lines:
            raise HarnessError(f"duplicate question id (first on line {lines[question.id]})",
                               path=path, line=entry.line, item=f"question {question.id}")
        lines[question.id] = entry.line
        questions.append(question)
    return questions, lines


def _locate_evidence(questions, lines, docs, path: Path) -> dict[str, tuple[Span, ...]]:
    located = {}
    for q in questions:
        spans: list[Span] = []
        for text in q.evidence:
            found = find_span(docs, text)
            if not found:
                raise HarnessError(f"evidence span not found in the corpus: {text!r}", path=path,
                                   line=lines[q.id], item=f"question {q.id}")
            spans.extend(found)
        located[q.id] = tuple(spans)
    return located


def _system_specs(config: SuiteConfig, raw: Any, path: Path, others: tuple[SystemSpec, ...] = ()
                  ) -> tuple[SystemSpec, ...]:
    entries = config.systems if config.systems is not None else list(BUILTIN)
    raw_entries = raw.get("systems") if isinstance(raw, dict) and raw.get("systems") else entries
    specs: list[SystemSpec] = []
    lines: list[int | None] = []
    for entry, raw_entry in zip(entries, raw_entries):
        line = getattr(raw_entry, "line", None)
        if isinstance(entry, str):
            if entry not in BUILTIN:
                raise HarnessError(f"unknown built-in system {entry!r}{did_you_mean(entry, BUILTIN)}",
                                   path=path, line=line)
            name, entry = entry, BUILTIN[entry]
        else:
            name = entry.get("name")
            if not name:
                raise HarnessError("a system mapping needs a 'name'", path=path, line=line)
        own = set(entry) if not isinstance(raw_entry, str) else set()  # the options the user's own entry sets
        options = dict(entry)
        options.pop("name", None)
        kind_name = options.pop("kind", None)
        if not kind_name:
            raise HarnessError("a system needs a 'kind'", path=path, line=line, item=f"system {name}")
        try:
            kind = KINDS.get(kind_name)
        except HarnessError as err:
            raise HarnessError(str(err), path=path, line=line, item=f"system {name}") from None
        merged = LineDict({**kind.defaults(config), **options})  # errors point at the system's own lines
        merged.line, merged.key_lines = line, getattr(raw_entry, "key_lines", {})
        options = validate(kind.options, merged, path, item=f"system {name}")
        if any(s.name == name for s in specs):
            raise HarnessError("duplicate system name", path=path, line=line, item=f"system {name}")
        specs.append(SystemSpec(name, kind_name, options, _preset(config, raw, options, own)))
        lines.append(line)
    for spec, line in zip(specs, lines):  # options that name other systems (raft's retriever)
        try:
            KINDS.get(spec.kind).check(spec.options, others + tuple(specs))
        except ValueError as err:
            raise HarnessError(str(err), path=path, line=line, item=f"system {spec.name}") from None
    return tuple(specs)


def _preset(config: SuiteConfig, raw: Any, options, own: set[str]) -> tuple[tuple[str, Any, Any], ...]:
    """The values a preset (raft's budget, lora-docs' corpus training) sets over what training.lora states."""
    training = raw.get("training") if isinstance(raw, dict) else None
    stated = training.get("lora") if isinstance(training, dict) else None
    if not isinstance(stated, dict):
        return ()
    suite = config.training.lora
    return tuple((key, getattr(options, key), getattr(suite, key)) for key in stated
                 if key not in own and hasattr(options, key) and getattr(options, key) != getattr(suite, key))


def _unlisted_builtins(config: SuiteConfig, listed: tuple[SystemSpec, ...], path: Path, raw: Any
                       ) -> tuple[SystemSpec, ...]:
    """The built-in systems a suite does not list, so that ``--systems rag-bm25`` works on any suite."""
    names = {s.name for s in listed}
    unlisted = [name for name in BUILTIN if name not in names]
    training = {"training": raw.get("training")} if isinstance(raw, dict) else None  # its presets are said too
    return _system_specs(config.model_copy(update={"systems": unlisted}), training, path, listed) if unlisted else ()


def _check_thresholds(config: SuiteConfig, specs, raw: Any, path: Path) -> None:
    by_name = {s.name: s for s in specs}
    lines = raw.get("thresholds", LineDict()) if isinstance(raw, dict) else LineDict()
    for system, metrics in config.thresholds.items():
        line = getattr(lines, "key_lines", {}).get(system)
        if system not in by_name:
            raise HarnessError(f"threshold names unknown system {system!r}{did_you_mean(system, by_name)}",
                               path=path, line=line)
        for metric in metrics:
            mline = getattr(lines.get(system), "key_lines", {}).get(metric, line)
            if metric not in METRICS:
                raise HarnessError(f"threshold names unknown metric {metric!r}{did_you_mean(metric, METRICS.names())}",
                                   path=path, line=mline, item=f"system {system}")
            if METRICS.get(metric).retrieval and not by_name[system].retrieves:
                raise HarnessError(f"metric {metric!r} needs retrieval, which system {system!r} does not do",
                                   path=path, line=mline)


def load_suite(root: str | Path, questions_required: bool = True) -> Suite:
    """The suite folder, validated. ``questions_required=False`` (harness draft) loads a suite whose
    questions.yaml is not written yet, with no questions."""
    root = Path(root)
    if not root.is_dir():
        raise HarnessError("suite folder not found", path=root)
    config_path = root / "suite.yaml"
    raw = load_yaml(config_path) if config_path.is_file() else LineDict()
    config = validate(SuiteConfig, raw if raw is not None else LineDict(), config_path)
    questions, lines = _load_questions(root / "questions.yaml", questions_required)
    documents = read_corpus(root / "corpus")
    calibration_path = root / config.calibration.file
    calibration = load_candidates(calibration_path, questions, True) if calibration_path.is_file() else None
    train_path = root / config.training.file
    train_pairs = load_train_pairs(train_path, documents) if train_path.is_file() else None
    specs = _system_specs(config, raw, config_path)
    _check_thresholds(config, specs, raw, config_path)
    default = tuple(s.name for s in specs)
    systems = specs + _unlisted_builtins(config, specs, config_path, raw)
    real_path = root / config.real_answers.file
    real_answers = (load_real_answers(real_path, questions, {s.name for s in systems}) if real_path.is_file()
                    else None)
    suite = Suite(
        root=root,
        name=config.name or root.name,
        config=config,
        questions=tuple(questions),
        documents=documents,
        systems=systems,
        default_systems=default,
        evidence=_locate_evidence(questions, lines, documents, root / "questions.yaml"),
        corpus_hash=corpus_hash(documents),
        calibration=calibration,
        real_answers=real_answers,
        train_pairs=train_pairs,
    )
    return _load_change(suite, config_path)
