"""Character n-gram TF-IDF over short texts, with its own posting-list query path.

Texts are normalised (`normalise`: NFKC, case-folded, diacritics dropped, umlauts and their
"ae"/"oe"/"ue" spellings folded to one form) and split into words; every word, padded with a
space on both sides, gives its character 3- to 5-grams (a padded word shorter than the size
counts once whole). Weights are sublinear (1 + log tf) times the smoothed idf
`log((1 + n) / (1 + df)) + 1`, rows L2-normalised. A query's grams that no stored text has count in its norm (with the idf
of df = 0), so a question in other words scores low rather than being matched on the few
grams it shares. Querying walks only the posting lists of the query's grams, leaving out
grams found in more than 5 % of the texts (low idf, yet most of the work): about a
millisecond for 10k texts.

Building is vectorised: all texts become one array of character codes (12 bits each, given
in order of first appearance; characters beyond the 4,095th distinct one share the last
code), a gram is the integer of its codes, and sorting those integers yields the posting
lists. `replaced` swaps some rows for new texts without re-reading the others.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence

import numpy as np

_SIZES = (3, 4, 5)
COMMON = 0.05  # grams in more than this share of texts are skipped when querying (little weight, long lists)
MIN_COMMON = 50
_BITS = 12  # per character code: five fit in an int64
_LAST_CODE = (1 << _BITS) - 1
_SPACE = 1  # the code of " "
_UNICODE = 0x110000


_MARKS = re.compile("[\u0300-\u036f]")  # combining diacritics, split off by NFD: "ä" -> "a" + U+0308
# the "e" of "ae"/"oe"/"ue" written for "ä"/"ö"/"ü"; not in "eue"/"aue"/"que" ("neue", "Frauen", "Quelle")
_TRANSLITERATED = re.compile(r"(?<=[aou])(?<![aeq][aou])e")


def normalise(text: str) -> str:
    """`text` as the grams see it: NFKC, case-folded ("ß" -> "ss"), diacritics dropped and "ae"/"oe"/"ue" -> "a"/"o"/"u".

    "Zählerstand", "Zaehlerstand" and "zahlerstand" all become "zahlerstand", "Straße" becomes
    "strasse", "café" "cafe". Punctuation stays: removing it measured worse on the German
    development half (benchmarks/README.md). Stored texts and queries alike pass through it.
    """
    folded = unicodedata.normalize("NFKC", text).casefold()
    if not folded.isascii():
        folded = unicodedata.normalize("NFC", _MARKS.sub("", unicodedata.normalize("NFD", folded)))
    return _TRANSLITERATED.sub("", folded)


def grams(text: str) -> Counter[str]:
    """The character 3-5-grams of each word of normalised `text` (padded with spaces), counted (the definition)."""
    found = []
    for word in normalise(text).split():
        padded = f" {word} "
        for size in _SIZES:
            found += [padded[i : i + size] for i in range(max(1, len(padded) - size + 1))]
    return Counter(found)


class CharTfidf:
    """Cosine similarity between a query and each of `texts` in TF-IDF space."""

    def __init__(self, texts: Sequence[str]) -> None:
        self._codes = np.zeros(_UNICODE, dtype=np.int16)  # code point -> character code (0: not seen)
        self._codes[ord(" ")] = _SPACE
        self._known = _SPACE
        self._index(*self._grams(texts, learn=True), len(texts))

    @property
    def rows(self) -> int:
        """How many texts are stored."""
        return self._rows

    def replaced(self, source: np.ndarray, texts: Sequence[str]) -> CharTfidf:
        """A new index whose row `i` is this index's row `source[i]`, or, where `source[i]` is -1, the next of `texts`.

        Only `texts` are split into grams; idf and norms are recomputed over all rows, so the
        result equals an index built from scratch on the same texts.
        """
        fresh = np.flatnonzero(source < 0)
        if len(fresh) != len(texts):
            raise ValueError(f"{len(fresh)} new rows but {len(texts)} texts")
        new = CharTfidf.__new__(CharTfidf)
        new._codes, new._known = self._codes.copy(), self._known
        moved = np.full(self._rows, -1, dtype=np.int64)
        kept = np.flatnonzero(source >= 0)
        moved[source[kept]] = kept
        rows = moved[self._post_rows]
        keep = rows >= 0
        keys = np.repeat(self._keys, self._df)[keep]
        vocabulary, df, new_rows, new_counts = new._grams(texts, learn=True)
        added = np.repeat(vocabulary, df)
        at = np.searchsorted(keys, added)
        keys = np.insert(keys, at, added)
        starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]]) if len(keys) else keys
        rows = np.insert(rows[keep], at, fresh[new_rows])
        counts = np.insert(self._post_counts[keep], at, new_counts)
        new._index(keys[starts], np.diff(np.r_[starts, len(keys)]), rows, counts, len(source))
        return new

    def similarities(self, text: str) -> np.ndarray:
        """Cosine similarity of `text` with every stored text, in [0, 1]."""
        keys, _, _, counts = self._grams([text], learn=False)
        if not len(keys) or not len(self._keys):
            return np.zeros(self._rows, dtype=np.float64)
        ids = np.searchsorted(self._keys, keys).clip(max=len(self._keys) - 1)
        known = self._keys[ids] == keys
        weights = (1 + np.log(counts)) * np.where(known, self._idf[ids], self._unseen_idf)
        norm = float(np.sqrt((weights**2).sum()))
        walk = known & (self._df[ids] <= self._common)
        ids, query = ids[walk], weights[walk] / max(norm, 1e-12)
        if not len(ids):
            return np.zeros(self._rows, dtype=np.float64)
        starts, ends = self._starts[ids], self._starts[ids + 1]
        lengths = ends - starts
        positions = np.repeat(ends - lengths.cumsum(), lengths) + np.arange(lengths.sum())
        weights = np.repeat(query, lengths) * self._post_weights[positions]
        return np.bincount(self._post_rows[positions], weights=weights, minlength=self._rows)

    def _index(self, keys: np.ndarray, df: np.ndarray, rows: np.ndarray, counts: np.ndarray, n_rows: int) -> None:
        """Posting lists, idf and weights from the sorted distinct grams, their document
        frequencies, and each posting's row and count (gram by gram)."""
        self._rows = n_rows
        self._keys = keys
        self._df = df
        self._starts = np.r_[0, np.cumsum(df)].astype(np.int64)
        self._common = max(COMMON * n_rows, MIN_COMMON)
        self._idf = np.log((1 + n_rows) / (1 + df)) + 1.0
        self._unseen_idf = float(np.log(1 + n_rows) + 1.0)
        weights = (1 + np.log(counts.astype(np.float64))) * np.repeat(self._idf, df)
        norms = np.sqrt(np.bincount(rows, weights=weights**2, minlength=n_rows)).clip(min=1e-12)
        weights /= norms[rows]
        self._post_rows = rows.astype(np.int32)
        self._post_counts = counts.astype(np.uint16)
        self._post_weights = weights.astype(np.float32)

    def _grams(self, texts: Sequence[str], *, learn: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The distinct grams of `texts` (sorted), how many texts have each, and per (gram, text)
        pair, gram by gram, the text's row and the gram's count in it.

        `learn` gives unseen characters a lasting code; otherwise (a query) they get codes
        past the known ones for this call only, so their grams are unseen but still distinct.
        """
        padded = [" " + "  ".join(words) + " " if (words := normalise(text).split()) else "" for text in texts]
        points = np.frombuffer("".join(padded).encode("utf-32-le"), dtype=np.uint32)
        chars = self._codes[points].astype(np.int64)
        unseen = chars == 0
        if unseen.any():
            points, inverse = np.unique(points[unseen], return_inverse=True)
            fresh = np.arange(self._known + 1, self._known + 1 + len(points)).clip(max=_LAST_CODE)
            chars[unseen] = fresh[inverse]
            if learn:
                self._codes[points] = fresh
                self._known = int(fresh[-1])
        used = np.unique(chars)
        # Grams are sorted as integers of their codes; with few distinct characters, codes
        # re-numbered within `used` (order kept) leave room to pack the row into the same int64.
        width, row_bits = len(used).bit_length(), max(len(texts) - 1, 1).bit_length()
        packed = max(_SIZES) * width + row_bits <= 63
        local = np.zeros(1 << _BITS, dtype=np.int64)
        local[used] = np.arange(1, len(used) + 1) if packed else used
        width = width if packed else _BITS
        keys, rows = _grams_at(local[chars], np.repeat(np.arange(len(texts)), [len(p) for p in padded]), width)
        total = len(keys)
        if packed:
            keys = keys << row_bits | rows
            keys.sort()
            first = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]]) if total else keys
            keys, rows = keys[first] >> row_bits, keys[first] & ((1 << row_bits) - 1)
        else:
            order = np.lexsort((rows, keys))
            keys, rows = keys[order], rows[order]
            first = np.flatnonzero(np.r_[True, (keys[1:] != keys[:-1]) | (rows[1:] != rows[:-1])]) if total else keys
            keys, rows = keys[first], rows[first]
        counts = np.diff(np.r_[first, total])
        starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]]) if len(keys) else keys
        vocabulary = keys[starts]
        if packed:  # back to the lasting codes
            vocabulary = _recode(vocabulary, np.r_[0, used].astype(np.int64), width)
        return vocabulary, np.diff(np.r_[starts, len(keys)]), rows, counts


def _grams_at(chars: np.ndarray, text_of: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Every gram occurrence in the stream of padded words `chars` (codes of `width` bits), as
    (gram integer, row); a padded word shorter than a size counts once whole for that size."""
    space = chars == _SPACE
    word_start = np.flatnonzero(space[:-1] & ~space[1:])  # the padding space before each word
    word_size = np.flatnonzero(~space[:-1] & space[1:]) + 2 - word_start  # padded length
    found_keys, found_rows = [], []
    key, inner = chars, np.ones(len(chars), dtype=bool)  # inner: no space strictly inside the gram
    for size in range(2, max(_SIZES) + 1):
        key = key[:-1] | (chars[size - 1 :] << (width * (size - 1)))
        inner = inner[:-1] & ~space[size - 2 : len(space) - 1] if size > 2 else inner[:-1]
        if size in _SIZES:
            found_keys.append(key[inner])
            found_rows.append(text_of[: len(key)][inner])
        whole = word_start[word_size == size]
        for _ in range(sum(n > size for n in _SIZES)):
            found_keys.append(key[whole])
            found_rows.append(text_of[whole])
    return np.concatenate(found_keys), np.concatenate(found_rows)


def _recode(keys: np.ndarray, table: np.ndarray, width: int) -> np.ndarray:
    """Grams with every character code `c` (of `width` bits) replaced by `table[c]` (of `_BITS` bits)."""
    out = np.zeros(len(keys), dtype=np.int64)
    for place in range(max(_SIZES)):
        out |= table[(keys >> (width * place)) & ((1 << width) - 1)] << (_BITS * place)
    return out
