"""Ingest and chunk: Markdown knowledge files -> documents -> chunks with stable ids.

The documents folder holds the English documents; a subfolder named by a language code holds the same
documents in that language (`vi/parking.md` is the Vietnamese `parking.md`). A document's `source` is its
path inside the folder, and its language is that of the folder it lies in.

A document is one Markdown file with a `# Title`. It is cut at its `## ` headings;
a section longer than `MAX_CHUNK_CHARS` is cut again between sentences, in windows
that share `OVERLAP_SENTENCES` sentence with the previous window. A chunk never
ends mid-sentence, and its id (`[<language>/]<file stem>/<heading slug>/<n>`) depends only on
the document's text, so an unchanged document keeps its ids across rebuilds.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MAX_CHUNK_CHARS = 600
OVERLAP_SENTENCES = 1
DEFAULT_LANGUAGE = "en"  # the documents at the top of the folder
LANGUAGE_FOLDER = re.compile(r"[a-z]{2}")  # a subfolder of translated documents: vi/, fr/, ...

# A sentence ends at . ! or ? followed by space and a capital (any script: "Đ", "Ô"), digit, quote or
# bracket, except after these abbreviations.
_ABBREVIATIONS = ("Mr.", "Mrs.", "Ms.", "Dr.", "St.", "e.g.", "i.e.", "etc.", "approx.", "No.", "vs.", "v.v.")
_ABBREVIATION = re.compile(r"(?<![\w.])(" + "|".join(re.escape(a) for a in _ABBREVIATIONS) + ")")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"”')\]]?\s+(?=[\"“'(\[]?(\S))")  # a break if group 1 starts one


class DocumentError(ValueError):
    """A knowledge file that cannot be read as a document."""


@dataclass(frozen=True)
class Section:
    heading: str
    text: str


@dataclass(frozen=True)
class Document:
    source: str  # file name relative to the documents folder
    title: str
    checksum: str  # sha256 of the file's bytes
    sections: tuple[Section, ...]


@dataclass(frozen=True)
class Chunk:
    id: str
    source: str
    title: str
    heading: str
    text: str

    @property
    def language(self) -> str:
        return document_language(self.source)

    @property
    def embedding_text(self) -> str:
        """What is embedded: the text in the context of its title and heading."""
        return f"{self.title}. {self.heading}. {self.text}" if self.heading else f"{self.title}. {self.text}"


def document_language(source: str) -> str:
    """The language of a document from its place in the folder: `vi/parking.md` is Vietnamese."""
    folder, _, _ = source.rpartition("/")
    return folder if folder else DEFAULT_LANGUAGE


def fold(text: str) -> str:
    """Lower case without diacritics: "Đậu xe ở đâu" -> "dau xe o dau", as customers often type it."""
    decomposed = unicodedata.normalize("NFD", text.lower().replace("đ", "d"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def language_counts(documents: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """language -> its document and chunk counts, the default language first."""
    counts: dict[str, dict[str, int]] = {DEFAULT_LANGUAGE: {"documents": 0, "chunks": 0}}
    for document in documents:
        count = counts.setdefault(document_language(document["source"]), {"documents": 0, "chunks": 0})
        count["documents"] += 1
        count["chunks"] += document.get("chunks", 0)
    return counts


def checksum(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def split_sentences(text: str) -> list[str]:
    """Sentences of a paragraph, keeping abbreviations such as "Ms." and "e.g." inside."""
    text = " ".join(text.split())
    if not text:
        return []
    protected = _ABBREVIATION.sub(lambda m: m.group(1).replace(".", "\x00"), text)
    parts, start = [], 0
    for end in _SENTENCE_END.finditer(protected):
        following = end.group(1)
        if following.isupper() or following.isdigit() or following == "$":
            parts.append(protected[start : end.start()])
            start = end.end()
    parts.append(protected[start:])
    return [part.replace("\x00", ".").strip() for part in parts if part.strip()]


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-") or "section"


def parse_document(source: str, data: bytes) -> Document:
    """One Markdown file: `# Title`, then text under `## ` headings (text before the first heading is kept)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise DocumentError(f"{source}: not UTF-8 text ({err})") from err
    title = ""
    sections: list[Section] = []
    heading, lines = "", []

    def close() -> None:
        body = "\n".join(lines).strip()
        if body:
            sections.append(Section(heading, body))

    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("# ") and not title:
            title = stripped[2:].strip()
        elif stripped.startswith("## "):
            close()
            heading, lines = stripped[3:].strip(), []
        else:
            lines.append(line)
    close()
    if not title:
        raise DocumentError(f"{source}: a knowledge document starts with a title line ('# Title')")
    if not sections:
        raise DocumentError(f"{source}: the document '{title}' has no text")
    return Document(source=source, title=title, checksum=checksum(data), sections=tuple(sections))


def document_paths(folder: Path) -> list[str]:
    """The knowledge files of the folder, relative to it: `*.md`, then `<language>/*.md`, in name order."""
    paths = sorted(path.name for path in folder.glob("*.md"))
    for language in sorted(p for p in folder.iterdir() if p.is_dir() and LANGUAGE_FOLDER.fullmatch(p.name)):
        paths += sorted(f"{language.name}/{path.name}" for path in language.glob("*.md"))
    return paths


def is_document_path(name: str) -> bool:
    """True for a knowledge file's place in the folder: `parking.md` or `vi/parking.md`."""
    folder, _, file_name = name.rpartition("/")
    return (
        file_name.endswith(".md") and "/" not in file_name and (not folder or bool(LANGUAGE_FOLDER.fullmatch(folder)))
    )


def read_documents(folder: Path) -> list[Document]:
    """Every knowledge file of the folder (`document_paths`)."""
    if not folder.is_dir():
        raise DocumentError(f"no knowledge folder at {folder}")
    documents = [parse_document(name, (folder / name).read_bytes()) for name in document_paths(folder)]
    if not documents:
        raise DocumentError(f"no knowledge documents (*.md) in {folder}")
    return documents


def _windows(sentences: list[str], max_chars: int, overlap: int) -> list[list[str]]:
    windows: list[list[str]] = []
    current: list[str] = []
    for sentence in sentences:
        if current and len(" ".join([*current, sentence])) > max_chars:
            windows.append(current)
            current = current[-overlap:] if overlap else []
            if current and len(" ".join([*current, sentence])) > max_chars:
                current = []
        current.append(sentence)
    if current:
        windows.append(current)
    return windows


def chunk_document(
    document: Document, max_chars: int = MAX_CHUNK_CHARS, overlap: int = OVERLAP_SENTENCES
) -> list[Chunk]:
    stem = str(Path(document.source).with_suffix(""))
    chunks: list[Chunk] = []
    seen: dict[str, int] = {}
    for section in document.sections:
        base = f"{stem}/{slug(section.heading or document.title)}"
        seen[base] = seen.get(base, 0) + 1
        if seen[base] > 1:  # two sections with one heading
            base = f"{base}-{seen[base]}"
        paragraphs = [p for p in re.split(r"\n\s*\n", section.text) if p.strip()]
        sentences = [s for p in paragraphs for s in split_sentences(_plain(p))]
        for n, window in enumerate(_windows(sentences, max_chars, overlap), start=1):
            chunks.append(Chunk(f"{base}/{n}", document.source, document.title, section.heading, " ".join(window)))
    return chunks


def _plain(markdown: str) -> str:
    """Markdown list markers, emphasis and table pipes out; the words stay."""
    lines = []
    for line in markdown.splitlines():
        line = re.sub(r"^\s*([-*+]|\d+\.)\s+", "", line)
        line = line.replace("|", " ").replace("**", "").replace("__", "")
        if re.fullmatch(r"[\s:-]*", line):
            continue
        lines.append(line.strip())
    return " ".join(lines)
