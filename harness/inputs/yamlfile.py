"""YAML loading that keeps line numbers, rejects duplicate keys and reads scalars as YAML 1.2 does.

PyYAML follows YAML 1.1, where ``No`` is false and ``1:30`` is the number 90. Suites are read
with the YAML 1.2 core schema instead: only true/false are booleans, and there are no base-60
numbers or timestamps. Numbers keep the text the user wrote (``6.50`` stays "6.50" in a text field).
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from harness.core.errors import HarnessError


class LineDict(dict):
    """A mapping that remembers where it and each of its keys start (1-based lines)."""

    line: int = 0
    key_lines: dict[str, int]


class YamlInt(int):
    text: str


class YamlFloat(float):
    text: str


class _Loader(yaml.SafeLoader):
    yaml_implicit_resolvers: dict = {}  # the YAML 1.2 core schema, added below


def _core_resolver(tag: str, pattern: str, first: str) -> None:
    _Loader.add_implicit_resolver(tag, re.compile(pattern, re.X), list(first))


_core_resolver("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF")
_core_resolver("tag:yaml.org,2002:int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789")
_core_resolver("tag:yaml.org,2002:float",
               r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
               "-+0123456789.")
_core_resolver("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""])
_core_resolver("tag:yaml.org,2002:merge", r"^(?:<<)$", "<")


def _construct_int(loader: _Loader, node: yaml.ScalarNode) -> YamlInt:
    text = loader.construct_scalar(node)
    value = YamlInt(int(text, 0) if text[:2] in ("0o", "0x") else int(text, 10))
    value.text = text
    return value


def _construct_float(loader: _Loader, node: yaml.ScalarNode) -> YamlFloat:
    text = loader.construct_scalar(node)
    special = {".inf": "inf", "-.inf": "-inf", "+.inf": "inf", ".nan": "nan"}
    value = YamlFloat(float(special.get(text.lower(), text)))
    value.text = text
    return value


def scalar_text(value: Any) -> str:
    """What the user wrote for a scalar read into a text field; booleans and nulls are refused."""
    if isinstance(value, bool):
        raise ValueError(f"`{str(value).lower()}` was read as a boolean; quote it to mean the text")
    if value is None:
        raise ValueError("is empty (null); write a value, or quote it")
    if isinstance(value, (int, float)):
        return getattr(value, "text", str(value))
    return value


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    data = LineDict()
    data.line = node.start_mark.line + 1
    data.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if key in data:
            item = f"id {data['id']}" if "id" in data else None  # names the question when it can
            raise HarnessError(f"duplicate key {key!r} (first on line {data.key_lines[key]})",
                               path=loader.name, line=line, item=item)
        data[key] = loader.construct_object(value_node, deep=True)
        data.key_lines[key] = line
    return data


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_Loader.add_constructor("tag:yaml.org,2002:float", _construct_float)


def load_yaml(path: Path) -> Any:
    """Parse ``path``; syntax errors and duplicate keys become one-line HarnessErrors."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise HarnessError(f"cannot read: {err}", path=path) from None
    loader = _Loader(text)
    loader.name = str(path)
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark else None
        raise HarnessError(f"YAML syntax error: {err.problem or err.context}", path=path, line=line) from None
    except yaml.YAMLError as err:
        raise HarnessError(f"YAML error: {err}", path=path) from None
    finally:
        loader.dispose()
