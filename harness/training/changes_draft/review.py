"""The review of a draft (``harness review --changes``): the draft read and saved back with each entry's
status, a reviewer's own value put in, and an accepted edit appended to its change set."""
from __future__ import annotations

from pathlib import Path

from harness.core.cache import write_atomic
from harness.core.errors import HarnessError
from harness.inputs.changes import Edit
from harness.inputs.yamlfile import load_yaml
from harness.training.changes_draft.draft import check, dump
from harness.training.changes_draft.edit import as_edit
from harness.training.changes_draft.material import Material
from harness.training.changes_draft.values import NUMBER, Value, number_of, substitute


def load_draft(path: Path) -> tuple[str, list[dict]]:
    """The draft's header comment and its entries (every one: the reviewed keep their status)."""
    raw = load_yaml(path)
    edits = raw.get("edits") if isinstance(raw, dict) else None
    if not isinstance(edits, list) or not all(isinstance(e, dict) and e.get("status") for e in edits):
        raise HarnessError("expected edits:, each with a status (as `harness changes` writes them)", path=path)
    return _comments(path.read_text(encoding="utf-8")), [_plain(e) for e in edits]


def _comments(text: str) -> str:
    lines = []
    for line in text.splitlines(keepends=True):
        if not line.startswith("#"):
            break
        lines.append(line)
    return "".join(lines)


def _plain(value):
    """Plain dicts, lists and strings from the line-numbered YAML, for writing back."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    for kind in (bool, int, float):  # the loader's line-numbered scalars, which a safe dump cannot write
        if isinstance(value, kind):
            return kind(value)
    return None if value is None else str(value)


def save_draft(path: Path, top: str, entries: list[dict]) -> None:
    write_atomic(path, top + dump({"edits": entries}))


def revalued(entry: dict, value: str) -> dict:
    """The entry with the reviewer's new value in place of the drafted one, in every field that says it."""
    drafted = entry["new"][0]
    m = NUMBER.match(drafted)
    if m and m.end() > 0:
        given = NUMBER.match(value.strip())
        if not given:
            raise HarnessError(f"{value!r} is not a number, and the drafted value {drafted!r} is")
        old = Value("count", drafted, number_of(m))
        new = Value("count", value.strip(), number_of(given))
    else:
        old, new = Value("term", drafted), Value("term", value.strip())

    def swap(x):
        if isinstance(x, dict):
            return {k: (v if k in ("id", "find", "count", "file", "status", "old", "question") else swap(v))
                    for k, v in x.items()}
        if isinstance(x, list):
            return [swap(v) for v in x]
        return substitute(x, old, new) if isinstance(x, str) else x

    out = swap(entry)
    out["reason"] = f"{entry.get('reason', '')}; the reviewer gave {value.strip()!r} instead of {drafted!r}"
    return out


def accept(target: Path, entry: dict, value: str | None, material: Material) -> str:
    """The edit (with the reviewer's value, if given) appended to the change set at ``target``, which must
    still apply as a whole; written atomically. Its id in that file is returned."""
    if value:
        entry = revalued(entry, value)
    data = _plain(load_yaml(target)) if target.is_file() else {"name": target.stem, "edits": []}
    taken = {e.get("id") for e in data["edits"]}
    edit_id, n = entry["id"], 1
    while edit_id in taken:
        edit_id, n = f"{entry['id']}-{n}", n + 1
    kept = as_edit({**entry, "id": edit_id}).model_dump(exclude_defaults=True, exclude_none=True)
    check(material, [Edit(**e) for e in data["edits"]] + [Edit(**kept)], target)
    data["edits"].append(kept)
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(target, dump(data))
    return edit_id


def describe(entry: dict) -> list[str]:
    """What a reviewer needs to judge a drafted edit, line by line."""
    lines = [f"{entry['id']}: {entry.get('fact', '')}", f"  old → new: {entry['old']} → {entry['new']}"]
    lines += [f"  mention:  {m['find']!r} → {m['replace']!r} (×{m.get('count', 1)})" for m in entry["mentions"]]
    for q in entry.get("questions", []):
        lines.append(f"  question {q['id']}: " + (f"answer {q['answer']!r}" if q.get("answer") else "evidence only"))
    lines += [f"  pair:     {p['question']!r} → {p['answer']!r}" for p in entry.get("pairs", [])]
    lines += [f"  derived:  {d}" for d in entry.get("derived", [])]
    lines.append(f"  why:      {entry.get('reason', '')}")
    return lines
