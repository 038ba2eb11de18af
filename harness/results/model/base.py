"""What every part of the results model shares: the base model, intervals, families, strict JSON."""
from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

# 4: the change study (spec.change, changes, rows' condition); 3: self-contained (spec, persisted analysis,
# verdict); 2: the RunReport redesign
SCHEMA_VERSION = 4

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


def _finite(value: Any) -> Any:
    """NaN and infinities have no JSON spelling: they become null (the "no value" of the contract)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value
