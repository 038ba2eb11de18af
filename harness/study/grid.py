"""A study's grid (YAML): one fine-tuned system of the suite, the settings to vary, the seeds; expanded
into cells, each a complete, validated set of the system's options.

    system: lora                      # a system of the suite that trains; its own settings are the reference
    grid:                             # a mapping, or a list of mappings (the union of their cells)
      target_modules: [all-linear, [q_proj, k_proj]]
      epochs: [1, 2, 4, 6]
    seeds: [0]                        # default: the system's own seed
    replicate: {best: 2, seeds: [0, 1, 2]}   # then the best settings, and the reference, with these seeds
    reference: false                  # leave out the system's own settings (default: a cell, the reference)
"""
from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import Field, PositiveInt, field_validator

from harness.core.errors import HarnessError, did_you_mean
from harness.inputs.config import Strict
from harness.inputs.validation import validate
from harness.inputs.yamlfile import LineDict, load_yaml
from systems import KINDS, SystemSpec

SEEDED = ("seed", "seeds")
REFERENCE = "suite settings"  # the label of the cell of the system's own settings  # set by the study's seeds, not by its grid


class Replicate(Strict):
    best: PositiveInt = 2  # how many of the best settings run again
    seeds: list[int] = Field(min_length=2)


class StudyGrid(Strict):
    system: str
    grid: list[dict[str, list[Any]]]  # one mapping is a list of one
    seeds: list[int] | None = None
    replicate: Replicate | None = None
    reference: bool = True  # the system's own settings as a cell, the verdict's reference (else: the runner-up)

    @field_validator("grid", mode="before")
    @classmethod
    def _one_or_many(cls, grid):
        return [grid] if isinstance(grid, dict) else grid

    @field_validator("grid")
    @classmethod
    def _values(cls, grid):
        for part in grid:
            empty = [name for name, values in part.items() if not values]
            if empty or not part:
                raise ValueError(f"dimension {empty[0]!r} has no values" if empty else "an empty grid")
        return grid

    @property
    def parts(self) -> list[dict[str, list[Any]]]:
        return self.grid


@dataclass(frozen=True)
class Cell:
    id: str
    setting: tuple[tuple[str, Any], ...]  # the values the grid sets; () is the system's own settings
    seed: int
    options: Any  # the system's options for this cell, validated (seeds: None, seed: this one)

    @property
    def label(self) -> str:
        return setting_label(self.setting)

    @property
    def own(self) -> bool:
        """The system's own settings: trained as themselves, never a checkpoint of a longer run."""
        return self.setting == ()


def value_text(value: Any) -> str:
    return "+".join(map(str, value)) if isinstance(value, list) else f"{value:g}" if isinstance(value, float) else str(value)


def setting_label(setting) -> str:
    return ", ".join(f"{name}={value_text(value)}" for name, value in setting) or REFERENCE


def load_grid(path: Path) -> tuple[StudyGrid, Any]:
    raw = load_yaml(path)
    if raw is None:  # an empty file
        raw = LineDict()
        raw.line, raw.key_lines = None, {}
    return validate(StudyGrid, raw, path), raw


def study_system(suite, grid: StudyGrid, path: Path, raw: Any) -> SystemSpec:
    """The suite's system the study varies: it must train."""
    line = getattr(raw, "key_lines", {}).get("system")
    names = [s.name for s in suite.systems if KINDS.get(s.kind).trains]
    if grid.system not in names:
        known = grid.system in {s.name for s in suite.systems}
        raise HarnessError(f"system {grid.system!r} " + ("does not fine-tune: a study varies training settings; "
                           f"choose one of {', '.join(names)}" if known else
                           f"is not a system of the suite that fine-tunes{did_you_mean(grid.system, names)}"),
                           path=path, line=line)
    return suite.system(grid.system)


def _check_dimensions(spec: SystemSpec, grid: StudyGrid, path: Path, raw: Any) -> None:
    fields = [f for f in KINDS.get(spec.kind).options.model_fields if f not in SEEDED]
    parts = raw.get("grid") if isinstance(raw, dict) else None
    for i, part in enumerate(grid.parts):
        raw_part = parts[i] if isinstance(parts, list) else parts
        for name in part:
            if name not in fields:
                why = "seeds: sets the seeds, not the grid" if name in SEEDED else \
                    f"not a setting of {spec.kind}{did_you_mean(name, fields)}"
                raise HarnessError(f"grid dimension {name!r}: {why}", path=path,
                                   line=getattr(raw_part, "key_lines", {}).get(name))


def _seeds(spec: SystemSpec, grid: StudyGrid) -> list[int]:
    own = spec.options.seeds[0] if spec.options.seeds else spec.options.seed
    return grid.seeds or [own]


def _options(spec: SystemSpec, setting, seed: int, path: Path, line: int | None):
    merged = LineDict({**spec.options.model_dump(), **dict(setting), "seed": seed, "seeds": None})
    merged.line, merged.key_lines = line, {}
    return validate(KINDS.get(spec.kind).options, merged, path, item=f"cell {setting_label(setting)}, seed {seed}")


def _identity(options) -> str:
    return json.dumps(options.model_dump(mode="json"), sort_keys=True)


def expand(spec: SystemSpec, grid: StudyGrid, path: Path, raw: Any) -> list[Cell]:
    """The reference (the system's own settings) and every cell of the grid, for every seed; cells whose
    options are equal are one cell (the first named)."""
    _check_dimensions(spec, grid, path, raw)
    line = getattr(raw, "key_lines", {}).get("grid")
    settings = [()] * grid.reference + [tuple(zip(part, values)) for part in grid.parts
                                        for values in itertools.product(*part.values())]
    return cells_of(spec, settings, _seeds(spec, grid), path, line)


def cells_of(spec: SystemSpec, settings, seeds, path: Path, line: int | None = None, taken=()) -> list[Cell]:
    """A cell per setting and seed; a setting equal to an earlier one is that cell. The system's own
    settings (``()``) stay apart from a grid cell equal to them: they train as themselves, where a grid
    cell may answer from a longer run's checkpoint (Cell.own)."""
    seen = {(c.own, _identity(c.options)) for c in taken}
    cells: list[Cell] = []
    for seed, setting in itertools.product(seeds, settings):
        options = _options(spec, setting, seed, path, line)
        if (setting == (), _identity(options)) not in seen:
            seen.add((setting == (), _identity(options)))
            cells.append(Cell(f"c{len(taken) + len(cells) + 1:02d}", setting, seed, options))
    return cells


def replicates(spec: SystemSpec, grid: StudyGrid, path: Path, cells: list[Cell], accuracy: dict[str, float]
               ) -> list[Cell]:
    """The best ``replicate.best`` settings (mean accuracy over the seeds run), and the system's own settings
    (the verdict's reference), again with the replicate seeds."""
    if grid.replicate is None:
        return []
    by_label: dict[str, list[float]] = {}
    settings = {}
    for cell in cells:
        by_label.setdefault(cell.label, []).append(accuracy[cell.id])
        settings[cell.label] = cell.setting
    ranked = sorted(by_label, key=lambda label: -sum(by_label[label]) / len(by_label[label]))
    chosen = ranked[:grid.replicate.best]
    if REFERENCE in by_label and REFERENCE not in chosen:  # the verdict's reference, on the same seeds
        chosen.append(REFERENCE)
    return cells_of(spec, [settings[label] for label in chosen], grid.replicate.seeds, path, taken=cells)
