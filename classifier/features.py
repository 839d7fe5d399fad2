"""Word and character n-gram TF-IDF features of a report and its diacritic-free form, plus the area, as one sklearn transformer."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from itertools import count

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .normalize import normalize_text, strip_diacritics

__all__ = ["DEFAULT_BLOCK_WEIGHTS", "FIELD_SEPARATOR", "FeedbackVectorizer", "as_documents", "join_fields"]

# The text fields of one report (title, description, ...) are joined with a line
# break: normalisation turns it into a space, so the model sees one text.
FIELD_SEPARATOR = "\n"

_TOKEN = re.compile(r"\w+")
# Feature blocks; each block is L2-normalised on its own so that long texts with
# many character n-grams cannot drown the word features.
_BLOCKS = ("w", "W", "c", "a")
_BLOCK_INDEX = {name: i for i, name in enumerate(_BLOCKS)}
# Diacritic-free features dominate so that text typed without diacritics routes
# like the same text with them (measured: 99% same field on the Vietnamese seed,
# no loss on Hungarian); the normalised words still add a little.
DEFAULT_BLOCK_WEIGHTS = {"w": 0.3, "W": 1.0, "c": 1.0, "a": 1.0}
_TERM_SEPARATOR = "\n"  # never inside a term: tokens are \w+, areas are whitespace-collapsed


def join_fields(*fields: str | None) -> str:
    """Join the text fields of one report (title first) the way the model was trained."""
    return FIELD_SEPARATOR.join(f.strip() for f in fields if f and f.strip())


def as_documents(
    texts: Iterable[str], areas: Iterable[str | None] | None = None
) -> list[tuple[str, str | None]]:
    """Pair every text with its area (None when unknown): the input of the pipeline."""
    texts = list(texts)
    if areas is None:
        return [(t, None) for t in texts]
    areas = list(areas)
    if len(areas) != len(texts):
        raise ValueError(f"{len(texts)} texts but {len(areas)} areas")
    return list(zip(texts, areas))


def _area_key(area: object) -> str | None:
    if area is None:
        return None
    key = " ".join(str(area).split()).casefold()
    return key or None


class FeedbackVectorizer(TransformerMixin, BaseEstimator):
    """TF-IDF features of (text, area) documents, computed word by word with a per-word cache.

    Blocks: words of the normalised text (w), words and word bigrams of its
    diacritic-free form (W), character 3-5-grams inside each diacritic-free word
    (c), and the area (a, one-hot). Character n-grams never cross word
    boundaries, so all features of a word are looked up once and cached; only
    bigrams are per text.
    """

    def __init__(
        self,
        *,
        char_ngram_range: tuple[int, int] = (3, 5),
        min_df: int = 5,
        sublinear_tf: bool = True,
        block_weights: dict[str, float] | None = None,
        cache_size: int = 200_000,
    ):
        self.char_ngram_range = char_ngram_range
        self.min_df = min_df
        self.sublinear_tf = sublinear_tf
        self.block_weights = block_weights
        self.cache_size = cache_size

    # ---- analysis -----------------------------------------------------------------

    def _weights(self) -> np.ndarray:
        weights = {**DEFAULT_BLOCK_WEIGHTS, **(self.block_weights or {})}
        unknown = set(weights) - set(_BLOCKS)
        if unknown:
            raise ValueError(f"unknown feature blocks {sorted(unknown)}; known: {_BLOCKS}")
        return np.array([weights[b] for b in _BLOCKS], dtype=np.float64)

    def _word_terms(self, token: str, bare: str) -> list[str]:
        """Terms that depend on one word alone: its unigrams and character n-grams."""
        lo, hi = self.char_ngram_range
        terms = ["w:" + token, "W:" + bare]
        padded = f" {bare} "
        size = len(padded)
        for n in range(lo, min(hi, size) + 1):
            terms.extend(["c:" + padded[i : i + n] for i in range(size - n + 1)])
        return terms

    @staticmethod
    def _pair_terms(bare: Sequence[str], area: object) -> list[str]:
        """Terms that span words (diacritic-free bigrams), and the area."""
        terms = [f"W:{a} {b}" for a, b in zip(bare, bare[1:])]
        key = _area_key(area)
        if key is not None:
            terms.append("a:" + key)
        return terms

    @staticmethod
    def _tokens(text: object) -> list[str]:
        if not isinstance(text, str):
            text = "" if text is None else str(text)
        return _TOKEN.findall(normalize_text(text))

    # ---- fitting ------------------------------------------------------------------

    def fit(self, X, y=None):
        self.fit_transform(X, y)
        return self

    def fit_transform(self, X, y=None):
        self._block_weights = self._weights()
        docs = _documents(X)
        temp: defaultdict[str, int] = defaultdict(count().__next__)
        words: dict[str, tuple[np.ndarray, str]] = {}
        rows: list[np.ndarray] = []
        for text, area in docs:
            parts, bare = [], []
            for token in self._tokens(text):
                cached = words.get(token)
                if cached is None:
                    plain = strip_diacritics(token)
                    terms = self._word_terms(token, plain)
                    cached = words[token] = (np.array([temp[t] for t in terms], dtype=np.int64), plain)
                parts.append(cached[0])
                bare.append(cached[1])
            parts.append(np.array([temp[t] for t in self._pair_terms(bare, area)], dtype=np.int64))
            rows.append(np.concatenate(parts))

        counts = _count_matrix(rows, len(temp))
        df = np.bincount(counts.indices, minlength=len(temp))
        terms = np.empty(len(temp), dtype=object)
        terms[list(temp.values())] = list(temp.keys())
        block = np.fromiter((_BLOCK_INDEX[t[0]] for t in terms), dtype=np.int8, count=len(terms))
        is_area = block == _BLOCK_INDEX["a"]
        # Weightless blocks are dropped from the vocabulary instead of stored as zeros.
        keep = ((df >= self.min_df) | is_area) & (self._block_weights[block] != 0)
        order = np.flatnonzero(keep)
        order = order[np.argsort(block[order], kind="stable")]

        self.terms_ = _TERM_SEPARATOR.join(terms[order])
        self.term_blocks_ = block[order]
        idf = np.log((1.0 + len(docs)) / (1.0 + df[order])) + 1.0
        idf[self.term_blocks_ == _BLOCK_INDEX["a"]] = 1.0
        self.idf_ = idf
        self.n_features_out_ = len(order)

        remap = np.full(len(temp), -1, dtype=np.int64)
        remap[order] = np.arange(len(order))
        self._store_word_table(words, df, remap)
        self._build_lookup()
        new_indices = remap[counts.indices]
        kept = new_indices >= 0
        row_of = np.repeat(np.arange(len(docs)), np.diff(counts.indptr))[kept]
        final = sp.csr_matrix(
            (counts.data[kept], (row_of, new_indices[kept])),
            shape=(len(docs), self.n_features_out_),
        )
        final.sum_duplicates()
        return self._weigh(final)

    def _store_word_table(self, words, df, remap) -> None:
        """Keep the feature ids of the frequent training words, so a freshly loaded
        model does not have to look their n-grams up one by one on first sight."""
        frequent = [(token, entry) for token, entry in words.items() if df[entry[0][0]] >= self.min_df]
        ids = [remap[entry[0]] for _, entry in frequent]
        ids = [found[found >= 0] for found in ids]
        self.word_table_tokens_ = _TERM_SEPARATOR.join(token for token, _ in frequent)
        self.word_table_bare_ = _TERM_SEPARATOR.join(entry[1] for _, entry in frequent)
        self.word_table_indptr_ = np.cumsum([0] + [len(found) for found in ids], dtype=np.int64)
        self.word_table_ids_ = (
            np.concatenate(ids).astype(np.int32) if ids else np.zeros(0, dtype=np.int32)
        )

    # ---- transforming -------------------------------------------------------------

    def _build_lookup(self) -> None:
        terms = self.terms_.split(_TERM_SEPARATOR) if self.terms_ else []
        self.vocabulary_ = dict(zip(terms, range(len(terms))))
        self._block_weights = self._weights()
        # token -> (ids of its in-vocabulary word and character terms, diacritic-free token)
        self._known_words: dict[str, tuple[np.ndarray, str]] = {}
        if getattr(self, "word_table_tokens_", ""):
            ids = self.word_table_ids_.astype(np.int64)
            bounds = self.word_table_indptr_.tolist()
            self._known_words = {
                token: (ids[start:end], bare)
                for token, bare, start, end in zip(
                    self.word_table_tokens_.split(_TERM_SEPARATOR),
                    self.word_table_bare_.split(_TERM_SEPARATOR),
                    bounds,
                    bounds[1:],
                )
            }
        self._word_cache = dict(self._known_words)

    def __getstate__(self):
        # The vocabulary travels as one string (cheap to store and to load); the
        # caches are rebuilt from it and from the word table.
        state = dict(super().__getstate__())  # object.__getstate__ returns __dict__ itself
        for derived in ("vocabulary_", "_word_cache", "_known_words", "_block_weights"):
            state.pop(derived, None)
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        if "terms_" in state:
            self._build_lookup()

    def _lookup_word(self, token: str) -> tuple[np.ndarray, str]:
        if len(self._word_cache) >= self.cache_size + len(self._known_words):
            self._word_cache = dict(self._known_words)
        bare = strip_diacritics(token)
        get = self.vocabulary_.get
        found = [i for i in map(get, self._word_terms(token, bare)) if i is not None]
        entry = self._word_cache[token] = (np.array(found, dtype=np.int64), bare)
        return entry

    def document_ids(self, text: object, area: object = None) -> np.ndarray:
        """Feature ids (with repetitions) of one document."""
        known, lookup = self._word_cache.get, self._lookup_word
        entries = [known(token) or lookup(token) for token in self._tokens(text)]
        parts, bare = zip(*entries) if entries else ((), ())
        get = self.vocabulary_.get
        found = [i for i in map(get, self._pair_terms(bare, area)) if i is not None]
        return np.concatenate((*parts, np.array(found, dtype=np.int64)))

    def transform(self, X):
        check_is_fitted(self, "terms_")
        rows = [self.document_ids(text, area) for text, area in _documents(X)]
        return self._weigh(_count_matrix(rows, self.n_features_out_))

    def transform_one(self, text: object, area: object = None) -> tuple[np.ndarray, np.ndarray]:
        """Sparse features of one document as (sorted ids, values), without scipy overhead."""
        ids, counts = np.unique(self.document_ids(text, area), return_counts=True)
        values = self._weigh_values(ids, counts.astype(np.float64), np.zeros(len(ids), np.int64), 1)
        return ids, values

    def _weigh(self, counts: sp.csr_matrix) -> sp.csr_matrix:
        row_of = np.repeat(np.arange(counts.shape[0]), np.diff(counts.indptr))
        data = self._weigh_values(
            counts.indices, counts.data.astype(np.float64), row_of, counts.shape[0]
        )
        return sp.csr_matrix((data, counts.indices, counts.indptr), shape=counts.shape)

    def _weigh_values(self, ids, counts, rows, n_rows) -> np.ndarray:
        """Sublinear TF x IDF, L2 per block and row, times the block weight."""
        values = 1.0 + np.log(counts) if self.sublinear_tf else counts
        values = values * self.idf_[ids]
        blocks = self.term_blocks_[ids].astype(np.int64)
        key = rows * len(_BLOCKS) + blocks
        norms = np.sqrt(np.bincount(key, weights=values * values, minlength=n_rows * len(_BLOCKS)))
        return values / norms[key] * self._block_weights[blocks]

    def get_feature_names_out(self, input_features=None):
        check_is_fitted(self, "terms_")
        return np.asarray(self.terms_.split(_TERM_SEPARATOR), dtype=object)


def _documents(X) -> list[tuple[object, object]]:
    docs = []
    for item in X:
        if isinstance(item, (tuple, list, np.ndarray)) and len(item) == 2:
            docs.append((item[0], item[1]))
        else:
            docs.append((item, None))
    return docs


def _count_matrix(rows: list[np.ndarray], n_features: int) -> sp.csr_matrix:
    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum([len(r) for r in rows], out=indptr[1:])
    indices = np.concatenate(rows) if rows else np.zeros(0, np.int64)
    matrix = sp.csr_matrix(
        (np.ones(len(indices), dtype=np.float64), indices, indptr),
        shape=(len(rows), n_features),
    )
    matrix.sum_duplicates()
    return matrix
