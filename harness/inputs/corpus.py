"""A suite's documents: read .md, .txt and .pdf files into text."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from harness.core.errors import HarnessError

SUFFIXES = (".md", ".txt", ".pdf")


@dataclass(frozen=True)
class Document:
    source: str  # path relative to the corpus folder
    text: str


def _read_pdf(path: Path) -> str:
    from pypdf import PdfReader  # lazy: only suites with PDFs pay for it

    return "\n\n".join(page.extract_text() or "" for page in PdfReader(path).pages)


def _read(path: Path) -> str:
    try:
        return _read_pdf(path) if path.suffix.lower() == ".pdf" else path.read_text(encoding="utf-8")
    except Exception as err:  # pypdf raises many types; all mean "unreadable"
        raise HarnessError(f"unreadable document: {type(err).__name__}: {err}", path=path) from None


def read_corpus(folder: Path) -> tuple[Document, ...]:
    if not folder.is_dir():
        raise HarnessError("corpus folder is missing", path=folder)
    paths = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
    if not paths:
        raise HarnessError(f"corpus is empty: no {', '.join(SUFFIXES)} files", path=folder)
    docs = []
    for path in paths:
        text = _read(path)
        if not text.strip():
            raise HarnessError("document is empty (no text could be read)", path=path)
        docs.append(Document(path.relative_to(folder).as_posix(), text))
    return tuple(docs)


def corpus_hash(docs: tuple[Document, ...]) -> str:
    digest = hashlib.sha256()
    for doc in docs:
        digest.update(doc.source.encode() + b"\0" + doc.text.encode() + b"\0")
    return digest.hexdigest()
