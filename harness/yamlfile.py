"""YAML loading that keeps line numbers and rejects duplicate keys."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from harness.errors import HarnessError


class LineDict(dict):
    """A mapping that remembers where it and each of its keys start (1-based lines)."""

    line: int = 0
    key_lines: dict[str, int]


class _Loader(yaml.SafeLoader):
    pass


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
