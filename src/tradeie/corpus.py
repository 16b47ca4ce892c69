"""Seeds -> corpus: normalised documents with metadata, offsets and near-duplicate groups."""

from __future__ import annotations

import codecs
import hashlib
import logging
import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tradeie.document import Document
from tradeie.errors import TradeieError
from tradeie.io.jsonl import write_documents
from tradeie.text.tokens import Token, entity_cuts, sentence_spans, sentence_tokens, tokenize

log = logging.getLogger(__name__)

DATE_HEADER = re.compile(r"\A\s*date\s+(\d{4}-\d{2}-\d{2})(?=\s|\Z)\s*", re.IGNORECASE)
#: A last line that is only an agency byline (ANI, PTI, IANS, AFP, AP, Reuters, ...).
BYLINE = re.compile(r"\A(?:[A-Z]{2,6}|Reuters|Bloomberg|Xinhua)\Z")
SHINGLE_SIZE = 5
#: Provenance of a document's text, recorded as ``origin`` in the corpus and the dataset.
ORIGIN_REAL_NEWS = "real-news"
ORIGIN_WRITTEN = "written-for-dataset"
#: Articles written after every system choice was frozen; they only ever go to the test split.
ORIGIN_HELD_OUT = "written-held-out"
ORIGINS = (ORIGIN_REAL_NEWS, ORIGIN_WRITTEN, ORIGIN_HELD_OUT)
NEAR_DUPLICATE_THRESHOLD = 0.15
#: Invisible format characters dropped by :func:`normalise`: zero-width space, word joiner, BOM,
#: soft hyphen and bidirectional controls (ZWJ/ZWNJ stay: they shape emoji and scripts).
INVISIBLE = frozenset("\u200b\u2060\ufeff\u00ad\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


@dataclass
class _Chars:
    """Characters of the text being normalised, each with its raw-text offset."""

    chars: list[str]
    raw: list[int]

    @property
    def text(self) -> str:
        return "".join(self.chars)


def _nfc_with_offsets(raw: str) -> _Chars:
    """NFC-normalise ``raw`` cluster by cluster, keeping each output char's raw offset."""
    chars: list[str] = []
    offsets: list[int] = []
    start = 0
    for i in range(1, len(raw) + 1):
        if i == len(raw) or unicodedata.combining(raw[i]) == 0:
            cluster = unicodedata.normalize("NFC", raw[start:i])
            for j, ch in enumerate(cluster):
                chars.append(ch)
                offsets.append(start + min(j, i - start - 1))
            start = i
    return _Chars(chars, offsets)


def _lines(chars: _Chars) -> list[tuple[int, int]]:
    """(start, end) index ranges of lines, splitting on \\n, \\r\\n and \\r."""
    lines, start, i, n = [], 0, 0, len(chars.chars)
    while i < n:
        ch = chars.chars[i]
        if ch in "\n\r\u2028\u2029\x0b\x0c\x85":
            lines.append((start, i))
            if ch == "\r" and i + 1 < n and chars.chars[i + 1] == "\n":
                i += 1
            start = i + 1
        i += 1
    lines.append((start, n))
    return lines


def normalise(raw: str) -> tuple[str, list[tuple[int, int, int]], dict]:
    """Normalise a raw text.

    Returns ``(text, offset_map, meta)``: NFC text with the date header and a
    trailing agency byline moved into ``meta``, each line stripped, runs of
    whitespace collapsed to one space, single line breaks kept as ``\\n`` and
    blank-line runs collapsed to one blank line (``\\n\\n``). ``offset_map`` is a
    list of ``(norm_start, raw_start, length)`` segments, see :func:`raw_offset`.
    """
    meta: dict = {"date": None, "source": None}
    chars = _nfc_with_offsets(raw)
    if chars.chars and chars.chars[0] == "\ufeff":
        chars = _Chars(chars.chars[1:], chars.raw[1:])
    match = DATE_HEADER.match(chars.text)
    if match:
        meta["date"] = match.group(1)
        chars = _Chars(chars.chars[match.end() :], chars.raw[match.end() :])

    kept: list[list[tuple[str, int]]] = []  # non-empty lines, each a list of (char, raw offset)
    blank_before: list[bool] = []
    seen_blank = False
    for start, end in _lines(chars):
        line: list[tuple[str, int]] = []
        pending_space: int | None = None
        for k in range(start, end):
            ch = chars.chars[k]
            if ch in INVISIBLE:
                continue
            if ch.isspace():
                if line and pending_space is None:
                    pending_space = chars.raw[k]
                continue
            if pending_space is not None:
                line.append((" ", pending_space))
                pending_space = None
            line.append((ch, chars.raw[k]))
        if not line:
            seen_blank = True
            continue
        blank_before.append(seen_blank and bool(kept))
        kept.append(line)
        seen_blank = False

    if kept and BYLINE.match("".join(c for c, _ in kept[-1])):
        meta["source"] = "".join(c for c, _ in kept[-1])
        kept.pop()
        blank_before.pop()

    out: list[tuple[str, int]] = []
    for line, blank in zip(kept, blank_before):
        if out:
            newline_raw = out[-1][1] + 1  # the raw line break right after the previous line
            out.extend([("\n", newline_raw)] * (2 if blank else 1))
        out.extend(line)
    text = "".join(c for c, _ in out)
    return text, _compress([r for _, r in out]), meta


def _compress(raw_offsets: list[int]) -> list[tuple[int, int, int]]:
    segments: list[tuple[int, int, int]] = []
    for i, r in enumerate(raw_offsets):
        if segments:
            s_norm, s_raw, length = segments[-1]
            if s_norm + length == i and s_raw + length == r:
                segments[-1] = (s_norm, s_raw, length + 1)
                continue
        segments.append((i, r, 1))
    return segments


def raw_offset(offset_map: list[tuple[int, int, int]] | list[list[int]], index: int) -> int:
    """Raw-file character offset of character ``index`` of the normalised text."""
    starts = [seg[0] for seg in offset_map]
    k = bisect_right(starts, index) - 1
    if k < 0:
        raise IndexError(index)
    s_norm, s_raw, length = offset_map[k]
    return s_raw + min(index - s_norm, length - 1)


def paragraph_spans(text: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for match in re.finditer(r"\n+", text):
        if match.start() > start:
            spans.append((start, match.start()))
        start = match.end()
    if start < len(text):
        spans.append((start, len(text)))
    return spans


def sentences_of(doc: Document) -> list[tuple[int, int]]:
    """Sentence offsets of a document: from corpus metadata, else computed."""
    if doc.meta.get("sentences"):
        return [tuple(s) for s in doc.meta["sentences"]]
    return segment(doc.text)


def document_tokens(doc: Document, *entity_sets) -> list[list[Token]]:
    """The one token view of a document: tokens per sentence, split at entity boundaries.

    Tokens break wherever an entity of ``entity_sets`` (default: the document's
    own entities) starts or ends, so every annotated span is representable.
    """
    sets = entity_sets or (doc.entities,)
    return sentence_tokens(doc.text, sentences_of(doc), entity_cuts(*sets))


def segment(text: str) -> list[tuple[int, int]]:
    """Sentence offsets of any text; paragraph breaks always end a sentence."""
    return [s for p0, p1 in paragraph_spans(text) for s in sentence_spans(text[p0:p1], offset=p0)]


def shingles(text: str, size: int = SHINGLE_SIZE) -> set[tuple[str, ...]]:
    words = [t.text.lower() for t in tokenize(text) if any(c.isalnum() for c in t.text)]
    return {tuple(words[i : i + size]) for i in range(max(len(words) - size + 1, 1))}


def jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a | b else 0.0


#: MinHash permutations and the LSH threshold (below the grouping threshold, so that pairs near it
#: are still proposed as candidates; every candidate's exact Jaccard decides).
MINHASH_PERMUTATIONS = 128
LSH_THRESHOLD_FACTOR = 0.5


def _shingle_hashes(text: str) -> np.ndarray:
    """Sorted unique 64-bit hashes of the word shingles of ``text`` (deterministic across runs)."""
    values = {
        int.from_bytes(hashlib.blake2b("\x1f".join(s).encode("utf-8"), digest_size=8).digest(), "little")
        for s in shingles(text)
    }
    return np.array(sorted(values), dtype=np.uint64)


def _exact_jaccard(a: np.ndarray, b: np.ndarray) -> float:
    inter = len(np.intersect1d(a, b, assume_unique=True))
    union = len(a) + len(b) - inter
    return inter / union if union else 0.0


def candidate_pairs_lsh(hashes: dict[str, np.ndarray], threshold: float) -> set[tuple[str, str]]:
    """Id pairs ``(a, b)``, ``a < b``, whose MinHash signatures collide in an LSH band."""
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=max(threshold * LSH_THRESHOLD_FACTOR, 0.01), num_perm=MINHASH_PERMUTATIONS)
    pairs: set[tuple[str, str]] = set()
    for doc_id in sorted(hashes):
        sig = MinHash(num_perm=MINHASH_PERMUTATIONS, seed=1, hashfunc=int)
        sig.update_batch((hashes[doc_id] & np.uint64(0xFFFFFFFF)).tolist())
        pairs.update((min(doc_id, other), max(doc_id, other)) for other in lsh.query(sig))
        lsh.insert(doc_id, sig)
    return pairs


def near_duplicate_groups(
    docs: list[Document], threshold: float = NEAR_DUPLICATE_THRESHOLD
) -> tuple[dict[str, str], dict[tuple[str, str], float]]:
    """Group documents whose word-shingle Jaccard similarity reaches ``threshold``.

    Candidate pairs come from MinHash LSH (``datasketch``), so the cost grows
    with the number of documents and of similar pairs, not with all pairs;
    each candidate's exact Jaccard decides. Returns ``(group_of, similarities)``:
    each document's group id (the smallest member id) and the exact Jaccard of
    every candidate pair (rounded to 4 places).
    """
    hashes = {d.id: _shingle_hashes(d.text) for d in docs}
    parent = {d.id: d.id for d in docs}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    sims: dict[tuple[str, str], float] = {}
    for a, b in sorted(candidate_pairs_lsh(hashes, threshold)):
        sims[(a, b)] = round(_exact_jaccard(hashes[a], hashes[b]), 4)
        if sims[(a, b)] >= threshold:
            ra, rb = find(a), find(b)
            parent[max(ra, rb)] = min(ra, rb)
    return {d: find(d) for d in parent}, sims


def similar_by_document(sims: dict[tuple[str, str], float]) -> dict[str, dict[str, float]]:
    """Document id -> {other id: Jaccard} for every pair with a positive similarity."""
    out: dict[str, dict[str, float]] = {}
    for (a, b), s in sorted(sims.items()):
        if s > 0:
            out.setdefault(a, {})[b] = s
            out.setdefault(b, {})[a] = s
    return out


#: Byte-order marks that identify a text file's encoding unambiguously (UTF-32 before UTF-16:
#: the UTF-32-LE mark starts with the UTF-16-LE one). Each codec keeps the mark as U+FEFF, so
#: raw offsets count it in every encoding; :func:`normalise` drops it.
BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def decode_seed(path: Path, data: bytes) -> tuple[str, str]:
    """``(raw text, encoding)`` of a seed file: UTF-8, or UTF-8/16/32 announced by a byte-order mark.

    Empty, binary (NUL bytes without a UTF-16/32 mark) and undecodable files raise
    :class:`TradeieError` naming the file and the byte offset.
    """
    if not data:
        raise TradeieError(f"{path}: the file is empty", hint="remove it or put the article text in it")
    encoding = next((name for bom, name in BOMS if data.startswith(bom)), "utf-8")
    if encoding == "utf-8" and b"\x00" in data:
        raise TradeieError(
            f"{path}: binary file (NUL byte at byte offset {data.index(0)}), not a text file",
            hint="give plain-text .txt files (UTF-8, or UTF-16/32 with a byte-order mark)",
        )
    codec = "utf-8" if encoding == "utf-8-sig" else encoding
    try:
        return data.decode(codec), encoding
    except UnicodeDecodeError as exc:
        name = "UTF-8" if codec == "utf-8" else encoding.upper()
        raise TradeieError(
            f"{path}: not valid {name} at byte offset {exc.start}", hint="re-save the file as UTF-8"
        ) from None


def document_id(path: Path) -> str:
    """A seed's document id: its file stem in Unicode NFC (macOS may store names decomposed)."""
    return unicodedata.normalize("NFC", path.stem)


def read_seed(path: Path, origin: str = ORIGIN_REAL_NEWS) -> Document:
    """Read one raw ``.txt`` file into a normalised corpus document of the given ``origin``."""
    data = path.read_bytes()
    raw, encoding = decode_seed(path, data)
    text, offset_map, meta = normalise(raw)
    if not text:
        raise TradeieError(
            f"{path}: only whitespace (or only a date header / byline), no text",
            hint="remove the file or put the article text in it",
        )
    paragraphs = paragraph_spans(text)
    sentences = segment(text)
    return Document(
        id=document_id(path),
        text=text,
        meta={
            "file": path.name,
            "origin": origin,
            "encoding": encoding,
            "sha256": hashlib.sha256(data).hexdigest(),
            "date": meta["date"],
            "source": meta["source"],
            "paragraphs": [list(p) for p in paragraphs],
            "sentences": [list(s) for s in sentences],
            "offset_map": [list(seg) for seg in offset_map],
        },
    )


def build_corpus(
    seeds_dir: str | Path,
    out_path: str | Path,
    threshold: float = NEAR_DUPLICATE_THRESHOLD,
    articles_dir: str | Path | None = None,
    heldout_dir: str | Path | None = None,
) -> list[Document]:
    """Build ``corpus/documents.jsonl`` from every ``*.txt`` in ``seeds_dir`` (real news) and,
    when given, ``articles_dir`` (articles written for this dataset) and ``heldout_dir``
    (articles written for the held-out test set)."""
    sources = [(Path(seeds_dir), ORIGIN_REAL_NEWS)]
    if articles_dir is not None:
        sources.append((Path(articles_dir), ORIGIN_WRITTEN))
    if heldout_dir is not None:
        sources.append((Path(heldout_dir), ORIGIN_HELD_OUT))
    docs = []
    for folder, origin in sources:
        paths = sorted(folder.glob("*.txt"))
        if not paths:
            raise TradeieError(f"{folder}: no .txt files found", hint="put raw article texts there")
        docs += [read_seed(p, origin) for p in paths]
    _check_id_clashes(docs)
    groups, sims = near_duplicate_groups(docs, threshold)
    similar = similar_by_document(sims)
    for doc in docs:
        doc.meta["near_duplicate_group"] = groups[doc.id]
        doc.meta["similar"] = similar.get(doc.id, {})
    write_documents(out_path, docs, "corpus")
    return docs


def _check_id_clashes(docs: list[Document]) -> None:
    """Two files whose ids are equal after NFC and case folding (one file on macOS/Windows) are an error."""
    seen: dict[str, Document] = {}
    for doc in docs:
        key = doc.id.casefold()
        if key in seen:
            other = seen[key]
            raise TradeieError(
                f"files {other.meta['file']!r} ({other.meta['origin']}) and {doc.meta['file']!r} "
                f"({doc.meta['origin']}) give the same document id {doc.id!r} (ids ignore case "
                "and Unicode normalisation)",
                hint="rename one of the files",
            )
        seen[key] = doc


def load_corpus(path: str | Path) -> list[Document]:
    """Load ``documents.jsonl`` written by :func:`build_corpus` (Documents JSONL, ``corpus`` layout)."""
    from tradeie.io.jsonl import read_documents

    return read_documents(path)
