"""Validate parsed YAML against a pydantic model, reporting errors by file, line and item."""
from __future__ import annotations

from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel, ValidationError

from harness.core.errors import HarnessError, did_you_mean
from harness.inputs.yamlfile import LineDict


def _line_of(data: Any, loc: tuple) -> int | None:
    """The line of the deepest key along ``loc`` that the YAML recorded."""
    line = data.line if isinstance(data, LineDict) else None
    for key in loc:
        if isinstance(data, LineDict) and key in data.key_lines:
            line = data.key_lines[key]
            data = data[key]
        elif isinstance(data, list) and isinstance(key, int) and key < len(data):
            data = data[key]
            line = getattr(data, "line", line)
        else:
            break
    return line


def _model_at(model: type[BaseModel], loc: tuple) -> type[BaseModel] | None:
    """The (nested) model whose field the end of ``loc`` names; None past a list or a mapping."""
    for part in loc[:-1]:
        field = model.model_fields.get(part) if isinstance(part, str) else None
        kinds = (get_args(field.annotation) or (field.annotation,)) if field else ()
        nested = [kind for kind in kinds if isinstance(kind, type) and issubclass(kind, BaseModel)]
        if not nested:
            return None
        model = nested[0]
    return model


def validate(model: type[BaseModel], data: Any, path: Path, item: str | None = None) -> Any:
    """``model(**data)`` or a HarnessError naming the file, line, item and field."""
    if not isinstance(data, dict):
        raise HarnessError(f"expected a mapping, got {type(data).__name__}", path=path,
                           line=getattr(data, "line", None), item=item)
    try:
        return model.model_validate(data)
    except ValidationError as err:
        errors = err.errors()
        # A misspelt field is also a missing one; "did you mean" is the message that helps.
        first = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
        loc = tuple(first["loc"])
        field = ".".join(str(part) for part in loc)
        if first["type"] == "extra_forbidden":
            owner = _model_at(model, loc)
            message = f"unknown field {field!r}" + (did_you_mean(str(loc[-1]), owner.model_fields) if owner else "")
        elif first["type"] == "missing":
            message = f"missing field {field!r}"
        else:
            message = f"field {field!r}: {first['msg'].removeprefix('Value error, ')}"
        raise HarnessError(message, path=path, line=_line_of(data, loc), item=item) from None
