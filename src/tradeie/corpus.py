"""Seeds -> corpus: normalised documents with metadata, offsets and near-duplicate groups."""

from __future__ import annotations

import codecs
import hashlib
import json
import logging
import os
import re
import sys
import unicodedata
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tradeie.document import Document
from tradeie.errors import TradeieError
from tradeie.text.tokens import Token, VocabBudget, _nlp, entity_cuts

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

    A text that NFC leaves unchanged cluster by cluster (every ASCII text, and
    almost every other) takes a fast path over whole runs of characters; any
    other text goes through :func:`_normalise_slow`, character by character.
    Both give the same result.
    """
    if not _nfc_unchanged(raw):
        return _normalise_slow(raw)
    meta: dict = {"date": None, "source": None}
    base = 1 if raw.startswith("\ufeff") else 0
    body = raw[base:] if base else raw
    match = DATE_HEADER.match(body)
    if match:
        meta["date"] = match.group(1)
        base += match.end()
        body = body[match.end() :]

    kept: list[list[tuple[str, int]]] = []  # non-empty lines: (piece, body offset of its first character)
    blank_before: list[bool] = []
    seen_blank = False
    start = 0
    for brk in (*_LINE_BREAK.finditer(body), None):
        end = len(body) if brk is None else brk.start()
        line: list[tuple[str, int]] = []
        if _IRREGULAR.search(body, start, end) is None:  # only single spaces: the stripped line is one piece
            text = body[start:end]
            stripped = text.strip(" ")
            if stripped:
                line.append((stripped, start + len(text) - len(text.lstrip(" "))))
        else:
            prev = None
            for run in _VISIBLE.finditer(body, start, end):
                if prev is not None:
                    space = _SPACE.search(body, prev, run.start())
                    if space is not None:
                        line.append((" ", space.start()))
                line.append((run.group(), run.start()))
                prev = run.end()
        if brk is not None:
            start = brk.end()
        if not line:
            seen_blank = True
            continue
        blank_before.append(seen_blank and bool(kept))
        kept.append(line)
        seen_blank = False

    if kept:
        last = "".join(piece for piece, _ in kept[-1])
        if BYLINE.match(last):
            meta["source"] = last
            kept.pop()
            blank_before.pop()

    parts: list[str] = []
    segments: list[list[int]] = []
    n = 0

    def add(piece: str, raw_start: int) -> None:
        nonlocal n
        if segments and segments[-1][1] + segments[-1][2] == raw_start:
            segments[-1][2] += len(piece)
        else:
            segments.append([n, raw_start, len(piece)])
        parts.append(piece)
        n += len(piece)

    last_raw = 0
    for k, (line, blank) in enumerate(zip(kept, blank_before)):
        if k:
            add("\n", last_raw + 1)  # the raw line break right after the previous line
            if blank:
                add("\n", last_raw + 1)
        for piece, offset in line:
            add(piece, base + offset)
        piece, offset = line[-1]
        last_raw = base + offset + len(piece) - 1
    return "".join(parts), [tuple(seg) for seg in segments], meta


#: Line breaks of :func:`normalise` (``\\r\\n`` is one).
_LINE_BREAK = re.compile(r"\r\n|[\n\r\u2028\u2029\x0b\x0c\x85]")
#: Runs of characters that are neither whitespace nor invisible (kept as they are).
_VISIBLE = re.compile("[^\\s" + "".join(sorted(INVISIBLE)) + "]+")
_SPACE = re.compile(r"\s")
#: What makes a line more than words separated by single spaces: other whitespace, a double space,
#: an invisible character.
_IRREGULAR = re.compile("[^\\S ]|  |[" + "".join(sorted(INVISIBLE)) + "]")
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


def _nfc_unchanged(raw: str) -> bool:
    """True when NFC, applied cluster by cluster as :func:`_nfc_with_offsets` does, changes nothing."""
    if raw.isascii():
        return True
    for run in _NON_ASCII.finditer(raw):
        region = raw[max(run.start() - 1, 0) : run.end()]  # starts and ends at cluster starts (ASCII)
        start = 0
        for i in range(1, len(region) + 1):
            if i == len(region) or unicodedata.combining(region[i]) == 0:
                cluster = region[start:i]
                if unicodedata.normalize("NFC", cluster) != cluster:
                    return False
                start = i
    return True


def _normalise_slow(raw: str) -> tuple[str, list[tuple[int, int, int]], dict]:
    """:func:`normalise` character by character (any text; the fast path's reference)."""
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


def _token_attrs() -> list[int]:
    from spacy.attrs import IDX, IS_PUNCT, IS_SPACE, LENGTH

    return [IDX, LENGTH, IS_SPACE, IS_PUNCT]


def document_tokens(doc: Document, *entity_sets) -> list[list[Token]]:
    """The one token view of a document: tokens per sentence, split at entity boundaries.

    Tokens break wherever an entity of ``entity_sets`` (default: the document's
    own entities) starts or ends, so every annotated span is representable.
    The same tokens as :func:`tradeie.text.tokens.sentence_tokens` with the
    entities' :func:`~tradeie.text.tokens.entity_cuts`, read from spaCy's token
    arrays (no per-token objects) and split at the cuts by bisection.
    """
    sets = entity_sets or (doc.entities,)
    cuts = sorted(entity_cuts(*sets))
    text = doc.text
    make_doc = _nlp().make_doc
    attrs = _token_attrs()[:3]  # IDX, LENGTH, IS_SPACE
    n_cuts = len(cuts)
    out: list[list[Token]] = []
    for s, e in sentences_of(doc):
        tokens: list[Token] = []
        k = bisect_right(cuts, s)  # the first cut after the sentence start; tokens come in order
        for idx, length, space in make_doc(text[s:e]).to_array(attrs).tolist():
            if space:
                continue
            a = s + idx
            b = a + length
            while k < n_cuts and cuts[k] <= a:
                k += 1
            if k < n_cuts and cuts[k] < b:  # an entity starts or ends inside: split there
                bounds = [a]
                while k < n_cuts and cuts[k] < b:
                    bounds.append(cuts[k])
                    k += 1
                bounds.append(b)
                for x, y in zip(bounds, bounds[1:]):
                    if text[x:y].strip():
                        tokens.append(Token(text[x:y], x, y))
            else:
                tokens.append(Token(text[a:b], a, b))
        out.append(tokens)
    return out


#: A string holds an alphanumeric character (``str.isalnum``): a word for the shingles.
_ALNUM = re.compile(r"[^\W_]")


def _analyse(text: str) -> tuple[list[tuple[int, int]], list[int]]:
    """``(sentence offsets, words)`` of ``text`` from one tokenizer pass per paragraph.

    Sentences as :func:`segment` defines them: spaCy's rule-based sentencizer
    (``tradeie.text.tokens.sentence_spans``), run here on the token arrays with
    its exact rule (a sentence starts at the first token after sentence-final
    punctuation that is neither punctuation nor such a character) instead of
    token objects. Words are the tokens holding an alphanumeric character, as
    :func:`shingles` uses them, each as spaCy's 64-bit hash of its lower-cased
    form (the ``LOWER`` attribute: the vocabulary's string store gives the string
    back, until :class:`tradeie.text.tokens.VocabBudget` rebuilds the tokenizer).
    A paragraph break is whitespace, so tokens never cross one: the paragraph
    tokens are the text's.
    """
    from spacy.attrs import LOWER

    nlp = _nlp()
    make_doc = nlp.make_doc
    final = nlp.get_pipe("sentencizer").punct_chars
    attrs = [*_token_attrs(), LOWER]
    sentences: list[tuple[int, int]] = []
    words: list[int] = []
    for p0, p1 in paragraph_spans(text):
        para = text[p0:p1]
        first = last = None
        seen_final = False
        for idx, length, space, punct, lower in make_doc(para).to_array(attrs).tolist():
            word = para[idx : idx + length]
            is_final = word in final
            if seen_final and not punct and not is_final:  # a new sentence starts here
                if first is not None:
                    sentences.append((first + p0, last + p0))
                first = None
                seen_final = False
            elif is_final:
                seen_final = True
            if space:
                continue
            if first is None:
                first = idx
            last = idx + length
            if word.isalnum() or _ALNUM.search(word):
                words.append(lower)
        if first is not None:
            sentences.append((first + p0, last + p0))
    return sentences, words


def segment(text: str) -> list[tuple[int, int]]:
    """Sentence offsets of any text; paragraph breaks always end a sentence."""
    return _analyse(text)[0]


def shingles(text: str, size: int = SHINGLE_SIZE) -> set[tuple[str, ...]]:
    """Word ``size``-shingles of ``text``: tokens holding a letter or digit, lower-cased."""
    strings = _nlp().vocab.strings
    return _word_shingles([strings[h] for h in _analyse(text)[1]], size)


def _word_shingles(words: list[str], size: int = SHINGLE_SIZE) -> set[tuple[str, ...]]:
    return {tuple(words[i : i + size]) for i in range(max(len(words) - size + 1, 1))}


def jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a | b else 0.0


#: MinHash permutations and the LSH threshold (below the grouping threshold, so that pairs near it
#: are still proposed as candidates; every candidate's exact Jaccard decides).
MINHASH_PERMUTATIONS = 128
LSH_THRESHOLD_FACTOR = 0.5


def _shingle_hashes(text: str) -> np.ndarray:
    """Sorted unique 64-bit hashes of the word shingles of ``text`` (deterministic across runs)."""
    return _word_hashes(_analyse(text)[1])


def _mix64(z: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser on a uint64 array (wrapping arithmetic): every output bit depends on
    every input bit, so the low 32 bits MinHash reads are as good as the high ones."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def _word_hashes(words: list[int]) -> np.ndarray:
    """:func:`_shingle_hashes` of a document's words (their 64-bit hashes, :func:`_analyse`): each
    shingle's hash mixes its words' hashes by position, all shingles at once (no per-shingle Python)."""
    w = np.array(words, dtype=np.uint64)
    size = min(len(w), SHINGLE_SIZE)  # fewer words than a shingle: one shingle of them all
    count = len(w) - size + 1
    h = np.full(count, np.uint64(len(w) if len(w) < SHINGLE_SIZE else 0), dtype=np.uint64)
    for k in range(size):
        h = _mix64(h + w[k : k + count])
    return np.unique(h)


def _exact_jaccard(a: np.ndarray, b: np.ndarray) -> float:
    inter = len(np.intersect1d(a, b, assume_unique=True))
    union = len(a) + len(b) - inter
    return inter / union if union else 0.0


class _ShingleStore:
    """Every document's shingle hashes and MinHash LSH band values, added one document at a time.

    The hashes go to a temporary file (read back for the exact Jaccard of
    candidates); memory keeps two offsets and the band values per document. The bands
    are those of ``datasketch.MinHashLSH`` at the same threshold (its ``b`` bands of
    ``r`` MinHash values, ``MINHASH_PERMUTATIONS`` permutations, seed 1), computed by
    ``datasketch.MinHash`` with only the permutations the bands read; the candidate pairs
    (equal values in some band) are found by sorting each band, so they are exactly the
    pairs ``MinHashLSH.query`` would return, without its per-document index objects.
    """

    def __init__(self, threshold: float) -> None:
        import array
        import tempfile

        from datasketch import MinHash, MinHashLSH

        lsh = MinHashLSH(threshold=max(threshold * LSH_THRESHOLD_FACTOR, 0.01), num_perm=MINHASH_PERMUTATIONS)
        self.b, self.r = lsh.b, lsh.r
        template = MinHash(num_perm=MINHASH_PERMUTATIONS, seed=1, hashfunc=int)
        a, b = template.permutations
        width = self.b * self.r
        self._minhash = {
            "num_perm": width,
            "seed": 1,
            "hashfunc": int,
            "permutations": (a[:width], b[:width]),
            "scheme": template.scheme,
        }
        self._file = tempfile.TemporaryFile()
        self._offsets = array.array("q", [0])
        self._bands = array.array("Q")
        self._flushed = False

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def add(self, hashes: np.ndarray) -> None:
        from datasketch import MinHash

        sig = MinHash(**self._minhash)
        sig.update_batch((hashes & np.uint64(0xFFFFFFFF)).tolist())
        self._bands.frombytes(sig.hashvalues.astype(np.uint64).tobytes())
        self._file.write(hashes.astype(np.uint64).tobytes())
        self._flushed = False
        self._offsets.append(self._offsets[-1] + len(hashes))

    def hashes(self, k: int) -> np.ndarray:
        """Document ``k``'s hashes, read from the file (a memory map would keep the pages around every
        read resident, and memory would grow with the corpus)."""
        if not self._flushed:
            self._file.flush()
            self._flushed = True
        start, end = self._offsets[k], self._offsets[k + 1]
        return np.frombuffer(os.pread(self._file.fileno(), 8 * (end - start), 8 * start), dtype=np.uint64)

    def candidate_pairs(self) -> set[tuple[int, int]]:
        """Index pairs ``(i, j)``, ``i < j``, equal in every value of at least one band."""
        n = len(self)
        pairs: set[tuple[int, int]] = set()
        if n < 2:
            return pairs
        bands = np.frombuffer(self._bands, dtype=np.uint64).reshape(n, self.b * self.r)
        for band in range(self.b):
            keys = bands[:, band * self.r : (band + 1) * self.r]
            label = keys[:, 0] if self.r == 1 else np.unique(keys, axis=0, return_inverse=True)[1].ravel()
            order = np.argsort(label, kind="stable")
            ranked = label[order]
            same = np.flatnonzero(ranked[1:] == ranked[:-1])  # order[k] and order[k + 1] share the band
            if not len(same):
                continue
            starts = same[np.r_[True, same[1:] != same[:-1] + 1]]  # runs of equal keys
            for start in starts.tolist():
                stop = start + 1
                while stop < n and ranked[stop] == ranked[start]:
                    stop += 1
                members = sorted(order[start:stop].tolist())
                pairs.update((x, y) for k, x in enumerate(members) for y in members[k + 1 :])
        return pairs

    def close(self) -> None:
        self._file.close()


def candidate_pairs_lsh(hashes: dict[str, np.ndarray], threshold: float) -> set[tuple[str, str]]:
    """Id pairs ``(a, b)``, ``a < b``, whose MinHash signatures collide in an LSH band (the pairs
    ``datasketch.MinHashLSH`` proposes; see :class:`_ShingleStore`)."""
    ids = sorted(hashes)
    store = _ShingleStore(threshold)
    try:
        for doc_id in ids:
            store.add(hashes[doc_id])
        return {(ids[i], ids[j]) for i, j in store.candidate_pairs()}
    finally:
        store.close()


def near_duplicate_groups(
    docs: Sequence[Document] | Sequence[str],
    threshold: float = NEAR_DUPLICATE_THRESHOLD,
    *,
    store: _ShingleStore | None = None,
) -> tuple[dict[str, str], dict[tuple[str, str], float]]:
    """Group documents whose word-shingle Jaccard similarity reaches ``threshold``.

    Candidate pairs come from MinHash LSH (``datasketch``'s banding, see
    :class:`_ShingleStore`), so the cost grows with the number of documents and
    of candidate pairs, not with all pairs; each candidate's exact Jaccard
    decides. Returns ``(group_of, similarities)``: each document's group id (the
    smallest member id) and the exact Jaccard of every candidate pair (rounded
    to 4 places). With ``store`` (the documents' shingle hashes in the order of
    ``docs``, as :func:`build_corpus` collects them while reading) ``docs`` may be
    bare ids.
    """
    ids = [d if isinstance(d, str) else d.id for d in docs]
    own = store is None
    if store is None:
        store = _ShingleStore(threshold)
        for d in docs:
            store.add(_shingle_hashes(d.text))
    try:
        rank = sorted(range(len(ids)), key=ids.__getitem__)  # union-find in id order: a root is its group's min id
        position = np.empty(len(ids), dtype=np.int64)
        position[rank] = np.arange(len(ids))
        parent = np.arange(len(ids))

        def find(x: int) -> int:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = int(parent[x])
            return x

        sims: dict[tuple[str, str], float] = {}
        pairs = sorted((min(ids[i], ids[j]), max(ids[i], ids[j]), i, j) for i, j in store.candidate_pairs())
        for a, b, i, j in pairs:
            sims[(a, b)] = round(_exact_jaccard(store.hashes(i), store.hashes(j)), 4)
            if sims[(a, b)] >= threshold:
                ra, rb = find(int(position[i])), find(int(position[j]))
                parent[max(ra, rb)] = min(ra, rb)
        return {doc_id: ids[rank[find(int(position[k]))]] for k, doc_id in enumerate(ids)}, sims
    finally:
        if own:
            store.close()


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
    return _read_seed(path, origin)[0]


def _read_seed(path: Path, origin: str) -> tuple[Document, list[int]]:
    """:func:`read_seed` and the hashes of the document's shingle words (:func:`_analyse`: one tokenizer
    pass gives both)."""
    data = path.read_bytes()
    raw, encoding = decode_seed(path, data)
    text, offset_map, meta = normalise(raw)
    if not text:
        raise TradeieError(
            f"{path}: only whitespace (or only a date header / byline), no text",
            hint="remove the file or put the article text in it",
        )
    paragraphs = paragraph_spans(text)
    sentences, words = _analyse(text)
    doc = Document(
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
    return doc, words


def build_corpus(
    seeds_dir: str | Path,
    out_path: str | Path,
    threshold: float = NEAR_DUPLICATE_THRESHOLD,
    articles_dir: str | Path | None = None,
    heldout_dir: str | Path | None = None,
) -> DocumentsFile:
    """Build ``corpus/documents.jsonl`` from every ``*.txt`` in ``seeds_dir`` (real news) and,
    when given, ``articles_dir`` (articles written for this dataset) and ``heldout_dir``
    (articles written for the held-out test set).

    Streams: each file is read, normalised, segmented and shingled once, its row
    spilled to a temporary file; only ids and shingle hashes stay in memory for the
    near-duplicate grouping, after which the rows get their group and similarities
    and ``out_path`` is written atomically. Returns the written documents as a
    :class:`DocumentsFile` (parsed when accessed, never all held).
    """
    import tempfile

    from tradeie.progress import progress

    sources = [(Path(seeds_dir), ORIGIN_REAL_NEWS)]
    if articles_dir is not None:
        sources.append((Path(articles_dir), ORIGIN_WRITTEN))
    if heldout_dir is not None:
        sources.append((Path(heldout_dir), ORIGIN_HELD_OUT))
    ids: list[str] = []
    store = _ShingleStore(threshold)
    seen: dict[str, tuple[str, str]] = {}  # casefolded id -> (file, origin)
    clash: TradeieError | None = None
    vocab = VocabBudget()
    with tempfile.TemporaryFile() as spill:
        for folder, origin in sources:
            paths = sorted(folder.glob("*.txt"))
            if not paths:
                raise TradeieError(f"{folder}: no .txt files found", hint="put raw article texts there")
            for path in progress(paths, f"corpus: {folder.name}", total=len(paths), unit="file"):
                doc, words = _read_seed(path, origin)
                clash = clash or _id_clash(seen, doc)
                ids.append(doc.id)
                store.add(_word_hashes(words))
                row = json.dumps({"id": doc.id, "text": doc.text, **doc.meta}, ensure_ascii=False)
                spill.write(row.encode("utf-8") + b"\n")
                vocab.tick()
        if clash is not None:
            raise clash
        try:
            groups, sims = near_duplicate_groups(ids, threshold, store=store)
        finally:
            store.close()
        similar = similar_by_document(sims)
        spill.seek(0)

        def rows():
            for doc_id, line in zip(ids, spill):
                tail = (
                    f', "near_duplicate_group": {json.dumps(groups[doc_id], ensure_ascii=False)}, '
                    f'"similar": {json.dumps(similar.get(doc_id, {}), ensure_ascii=False)}}}\n'
                )
                yield line[:-2] + tail.encode("utf-8")  # the row without its closing brace, then the two keys

        _write_lines_atomic(out_path, rows())
    return DocumentsFile(out_path)


def _write_lines_atomic(path: str | Path, lines) -> None:
    """Write byte ``lines`` to ``path`` through a temp file in the same folder, then rename
    (as :func:`tradeie.io.atomic.write_text_atomic`, streamed)."""
    import tempfile

    from tradeie.io.atomic import _umask

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.writelines(lines)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _id_clash(seen: dict[str, tuple[str, str]], doc: Document) -> TradeieError | None:
    """The error for two files whose ids are equal after NFC and case folding (one file on
    macOS/Windows), else None; records ``doc`` in ``seen``."""
    key = doc.id.casefold()
    if key in seen:
        file, origin = seen[key]
        return TradeieError(
            f"files {file!r} ({origin}) and {doc.meta['file']!r} "
            f"({doc.meta['origin']}) give the same document id {doc.id!r} (ids ignore case "
            "and Unicode normalisation)",
            hint="rename one of the files",
        )
    seen[key] = (doc.meta["file"], sys.intern(doc.meta["origin"]))
    return None


class DocumentsFile(Sequence[Document]):
    """The documents of a Documents JSONL file (:mod:`tradeie.io.jsonl`, any layout), parsed when
    accessed: memory holds two offsets per row, never the documents.

    A snapshot: the file stays open, so replacing it later (another ``build_corpus``) does not
    change what this sequence reads. ``docs[i]`` and iteration give new :class:`Document` objects.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._fd = os.open(self.path, os.O_RDONLY)
        starts, ends, lines = [], [], []
        pos = 0
        with open(self._fd, "rb", closefd=False) as handle:
            for lineno, raw in enumerate(handle, 1):
                if raw.strip():
                    starts.append(pos)
                    ends.append(pos + len(raw))
                    lines.append(lineno)
                pos += len(raw)
        self._starts = np.array(starts, dtype=np.int64)
        self._ends = np.array(ends, dtype=np.int64)
        self._lines = np.array(lines, dtype=np.int64)

    def __len__(self) -> int:
        return len(self._starts)

    def _load(self, k: int) -> Document:
        from tradeie.io.jsonl import row_document

        start, end, lineno = int(self._starts[k]), int(self._ends[k]), int(self._lines[k])
        where = f"{self.path}:{lineno}"
        raw = os.pread(self._fd, end - start, start)
        try:
            row = json.loads(raw.decode("utf-8-sig" if lineno == 1 else "utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise TradeieError(f"{where}: invalid row ({exc})", hint="each line must be one JSON object") from None
        return row_document(row, where)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self._load(k) for k in range(*index.indices(len(self)))]
        n = len(self)
        if not -n <= index < n:
            raise IndexError(index)
        return self._load(index % n)

    def __iter__(self):
        for k in range(len(self)):
            yield self._load(k)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 (interpreter shutdown)
            pass

    def __repr__(self) -> str:
        return f"DocumentsFile({str(self.path)!r}, {len(self)} documents)"


def load_corpus(path: str | Path) -> list[Document]:
    """Load ``documents.jsonl`` written by :func:`build_corpus` (Documents JSONL, ``corpus`` layout)."""
    from tradeie.io.jsonl import read_documents

    return read_documents(path)
