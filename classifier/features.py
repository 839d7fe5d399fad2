"""Word and character n-gram TF-IDF features of a report and its diacritic-free form, plus the area, as one sklearn transformer."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from itertools import count, repeat

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .ngrams import NgramIndex
from .normalize import place_tone_marks, strip_diacritics, untoned_words

__all__ = ["DEFAULT_BLOCK_WEIGHTS", "FIELD_SEPARATOR", "FeedbackVectorizer", "as_documents", "join_fields"]

# The text fields of one report (title, description, ...) are joined with a line
# break: normalisation turns it into a space, so the model sees one text.
FIELD_SEPARATOR = "\n"

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
    boundaries, so the features of a word are looked up once and cached; a batch
    looks up each distinct new word once, and its count matrix is one sparse
    product (documents x distinct words) @ (distinct words x features) plus the
    bigrams and areas.
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

    def _weights(self) -> np.ndarray:
        weights = {**DEFAULT_BLOCK_WEIGHTS, **(self.block_weights or {})}
        unknown = set(weights) - set(_BLOCKS)
        if unknown:
            raise ValueError(f"unknown feature blocks {sorted(unknown)}; known: {_BLOCKS}")
        return np.array([weights[b] for b in _BLOCKS], dtype=np.float64)

    # ---- fitting ------------------------------------------------------------------

    def fit(self, X, y=None):
        self.fit_transform(X, y)
        return self

    def fit_transform(self, X, y=None):
        self._block_weights = self._weights()
        docs = _documents(X)
        tokens = _Tokens(docs)
        words = _word_by_word(place_tone_marks, tokens.distinct)
        bares = _word_by_word(strip_diacritics, words)
        temp: defaultdict[str, int] = defaultdict(count().__next__)

        def ids(prefix: str, keys: list[str]) -> np.ndarray:
            """Temporary ids of terms, numbered as they first appear."""
            return np.fromiter((temp[prefix + key] for key in keys), dtype=np.int64, count=len(keys))

        grams, n_grams = _char_ngrams(bares, self.char_ngram_range)
        word_ids = _group_by_word(
            [ids("w:", words), ids("W:", bares)], ids("c:", grams), np.repeat(np.arange(len(bares)), n_grams)
        )
        pair_docs, first, second = tokens.pairs()
        pair_keys, pair_index = np.unique(first * len(bares) + second, return_inverse=True)
        pair_ids = ids("W:", _pair_strings(pair_keys, bares))[pair_index.reshape(-1)]
        area_docs, area_keys = _areas(docs)
        counts = tokens.count_matrix(
            word_ids,
            np.concatenate([pair_docs, area_docs]),
            np.concatenate([pair_ids, ids("a:", area_keys)]),
            len(temp),
        )

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
        self._store_word_table(dict(zip(words, zip(word_ids, bares))), df, remap)
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
        self._block_weights = self._weights()
        # Terms are sorted by block. Words and areas: one dictionary per block, keyed
        # without the block prefix; character n-grams: an index that looks up all
        # n-grams of many words at once.
        self._ids: dict[str, dict[str, int]] = {}
        for name in _BLOCKS:
            first, last = np.searchsorted(self.term_blocks_, [_BLOCK_INDEX[name], _BLOCK_INDEX[name] + 1])
            keys = [term[2:] for term in terms[first:last]]
            if name == "c":
                self._gram_index = NgramIndex(keys, np.arange(first, last))
            else:
                self._ids[name] = dict(zip(keys, range(first, last)))
        # Word bigrams "a b" by the ids of "a" and "b", which are always in the
        # vocabulary when the bigram is: every document with "a b" has "a" and "b".
        words = self._ids["W"]
        bigrams = {key: i for key, i in words.items() if " " in key}
        for key in bigrams:
            del words[key]
        halves = [key.split(" ") for key in bigrams]
        keys = self._pair_keys(
            self._lookup("W", [a for a, _ in halves]), self._lookup("W", [b for _, b in halves])
        )
        values = np.fromiter(bigrams.values(), dtype=np.int64, count=len(bigrams))
        order = np.argsort(keys)
        order = order[keys[order] >= 0]
        # A sentinel larger than any key: searchsorted never runs past the end.
        self._bigram_keys = np.append(keys[order], np.iinfo(np.int64).max)
        self._bigram_values = np.append(values[order], -1)
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
        # Keyed by the word before tone placement (see normalize_untoned).
        self._word_cache = dict(self._known_words)

    def __getstate__(self):
        # The vocabulary travels as one string (cheap to store and to load); the
        # caches are rebuilt from it and from the word table.
        state = dict(super().__getstate__())  # object.__getstate__ returns __dict__ itself
        for derived in (
            "_ids", "_gram_index", "_bigram_keys", "_bigram_values", "_word_cache", "_known_words", "_block_weights"
        ):
            state.pop(derived, None)
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        if "terms_" in state:
            self._build_lookup()

    def _lookup(self, block: str, keys: list[str]) -> np.ndarray:
        """Feature ids of terms of one block (without its prefix); -1 when not in the vocabulary."""
        return np.fromiter(map(self._ids[block].get, keys, repeat(-1)), dtype=np.int64, count=len(keys))

    def _pair_keys(self, first: np.ndarray, second: np.ndarray) -> np.ndarray:
        """One number per pair of word ids; -1 when either word is not in the vocabulary."""
        keys = first * self.n_features_out_ + second
        keys[(first < 0) | (second < 0)] = -1
        return keys

    def _bigram_ids(self, first: np.ndarray, second: np.ndarray) -> np.ndarray:
        """Feature ids of the bigrams of pairs of word ids (from the W block); -1 when not in the vocabulary."""
        keys = self._pair_keys(first, second)
        at = np.searchsorted(self._bigram_keys, keys)
        return np.where(self._bigram_keys[at] == keys, self._bigram_values[at], -1)

    def _lookup_words(self, raw_words: list[str]) -> list[tuple[np.ndarray, str]]:
        """(feature ids, diacritic-free form) of words missing from the cache, all at once."""
        if len(self._word_cache) + len(raw_words) > self.cache_size + len(self._known_words):
            self._word_cache = dict(self._known_words)
        words = _word_by_word(place_tone_marks, raw_words)
        found = list(map(self._known_words.get, words))
        new = [i for i, entry in enumerate(found) if entry is None]
        if new:
            new_words = [words[i] for i in new]
            bares = _word_by_word(strip_diacritics, new_words)
            # The words padded with a space each side, one after another: an n-gram
            # that runs into the next word contains two spaces, which no n-gram has.
            lo, hi = self.char_ngram_range
            sizes = np.fromiter(map(len, bares), dtype=np.int64, count=len(bares)) + 2
            grams = self._gram_index.find("".join([f" {bare} " for bare in bares]), range(lo, hi + 1))
            word_ids = _group_by_word(
                [self._lookup("w", new_words), self._lookup("W", bares)],
                np.concatenate(grams),
                np.concatenate([np.repeat(np.arange(len(bares)), sizes)] * len(grams)),
            )
            for i, word_ids_i, bare in zip(new, word_ids, bares):
                found[i] = (word_ids_i, bare)
        self._word_cache.update(zip(raw_words, found))
        return found

    def _entries(self, raw_words: list[str]) -> list[tuple[np.ndarray, str]]:
        """(feature ids, diacritic-free form) of words, from the cache or looked up."""
        entries = list(map(self._word_cache.get, raw_words))
        missing = [word for word, entry in zip(raw_words, entries) if entry is None]
        if missing:
            looked_up = iter(self._lookup_words(missing))
            entries = [entry if entry is not None else next(looked_up) for entry in entries]
        return entries

    def _counts(self, docs: list[tuple[object, object]]) -> sp.csr_matrix:
        """Term counts of documents (no weighting), one row per document."""
        tokens = _Tokens(docs)
        entries = self._entries(tokens.distinct)
        word_ids, bares = zip(*entries) if entries else ((), ())
        pair_docs, first, second = tokens.pairs()
        bare_ids = self._lookup("W", list(bares))
        area_docs, area_keys = _areas(docs)
        extra_docs = np.concatenate([pair_docs, area_docs])
        extra_ids = np.concatenate(
            [self._bigram_ids(bare_ids[first], bare_ids[second]), self._lookup("a", area_keys)]
        )
        known = extra_ids >= 0
        return tokens.count_matrix(list(word_ids), extra_docs[known], extra_ids[known], self.n_features_out_)

    def transform(self, X):
        check_is_fitted(self, "terms_")
        return self._weigh(self._counts(_documents(X)))

    def transform_one(self, text: object, area: object = None) -> tuple[np.ndarray, np.ndarray]:
        """Sparse features of one document as (sorted ids, values), as in transform but
        without building sparse matrices, which would cost more than the arithmetic."""
        entries = self._entries(untoned_words(text))
        word_ids, bares = zip(*entries) if entries else ((), ())
        bare_ids = self._lookup("W", list(bares))
        key = _area_key(area)
        area_id = np.array([self._ids["a"].get(key, -1) if key is not None else -1])
        ids = np.concatenate((*word_ids, self._bigram_ids(bare_ids[:-1], bare_ids[1:]), area_id))
        ids, counts = np.unique(ids[ids >= 0], return_counts=True)
        values = self._weigh_values(ids, counts.astype(np.float64), np.zeros(len(ids), np.int64), 1)
        return ids, values

    def _weigh(self, counts: sp.csr_matrix) -> sp.csr_matrix:
        rows = np.repeat(np.arange(counts.shape[0]), np.diff(counts.indptr))
        data = self._weigh_values(counts.indices, counts.data, rows, counts.shape[0])
        return sp.csr_matrix((data, counts.indices, counts.indptr), shape=counts.shape)

    def _weigh_values(self, ids, counts, rows, n_rows) -> np.ndarray:
        """Sublinear TF x IDF, L2 per block and row, times the block weight.

        Overwrites ``rows``; works in place to keep the temporary arrays few.
        """
        values = np.log(counts) if self.sublinear_tf else counts.astype(np.float64)
        if self.sublinear_tf:
            values += 1.0
        scratch = np.take(self.idf_, ids)
        values *= scratch
        key = rows
        key *= len(_BLOCKS)
        key += self.term_blocks_[ids]
        np.multiply(values, values, out=scratch)
        norms = np.sqrt(np.bincount(key, weights=scratch, minlength=n_rows * len(_BLOCKS)))
        weights = np.tile(self._block_weights, n_rows)
        scale = np.divide(weights, norms, out=np.zeros_like(norms), where=norms > 0)
        values *= np.take(scale, key, out=scratch)
        return values

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


class _Tokens:
    """The words of a batch of documents: each distinct word once, and where it occurs."""

    def __init__(self, docs: list[tuple[object, object]]):
        flat: list[str] = []
        lengths = np.zeros(len(docs), dtype=np.int64)
        for i, (text, _) in enumerate(docs):
            words = untoned_words(text)
            flat += words
            lengths[i] = len(words)
        # Words before tone placement: place_tone_marks() runs once per distinct word.
        self.distinct = list(dict.fromkeys(flat))
        position = dict(zip(self.distinct, range(len(self.distinct))))
        self.codes = np.fromiter(map(position.__getitem__, flat), dtype=np.int64, count=len(flat))
        self.doc_of = np.repeat(np.arange(len(docs)), lengths)
        self.n_docs = len(docs)

    def pairs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Neighbouring words in each document: (document, first word, second word) of every pair."""
        inside = self.doc_of[1:] == self.doc_of[:-1]
        return self.doc_of[1:][inside], self.codes[:-1][inside], self.codes[1:][inside]

    def count_matrix(self, word_ids: list[np.ndarray], extra_docs, extra_ids, n_features) -> sp.csr_matrix:
        """Counts: every occurrence of word i adds word_ids[i]; (extra_docs, extra_ids) add one each.

        One sparse product (documents x items) @ (items x features), where the
        items are the distinct words followed by one item per feature for the extras.
        """
        n_words = len(word_ids)
        lengths = np.fromiter(map(len, word_ids), dtype=np.int64, count=n_words)
        item_indptr = np.zeros(n_words + n_features + 1, dtype=np.int64)
        np.cumsum(lengths, out=item_indptr[1 : n_words + 1])
        item_indptr[n_words + 1 :] = item_indptr[n_words] + np.arange(1, n_features + 1)
        item_indices = np.concatenate([*word_ids, np.arange(n_features)])
        items = sp.csr_matrix(
            (np.ones(len(item_indices)), item_indices, item_indptr), shape=(n_words + n_features, n_features)
        )
        docs = np.concatenate([self.doc_of, extra_docs])
        order = np.argsort(docs, kind="stable")
        occurrence_indptr = np.zeros(self.n_docs + 1, dtype=np.int64)
        np.cumsum(np.bincount(docs, minlength=self.n_docs), out=occurrence_indptr[1:])
        # Repeated items in a row are fine: the product adds them up.
        occurrences = sp.csr_matrix(
            (np.ones(len(docs)), np.concatenate([self.codes, n_words + extra_ids])[order], occurrence_indptr),
            shape=(self.n_docs, n_words + n_features),
        )
        return occurrences @ items


def _word_by_word(function, words: list[str]) -> list[str]:
    """[function(word) for word in words] in one call: both functions used here work
    inside words only, and words (\\w+) never contain the separator."""
    if not words:
        return []
    return function(_TERM_SEPARATOR.join(words)).split(_TERM_SEPARATOR)


def _char_ngrams(bares: list[str], ngram_range: tuple[int, int]) -> tuple[list[str], np.ndarray]:
    """Character n-grams of every word padded with a space each side, and how many each word has."""
    lo, hi = ngram_range
    padded = [f" {bare} " for bare in bares]
    grams = [
        word[i : i + n]
        for word in padded
        for n in range(lo, min(hi, len(word)) + 1)
        for i in range(len(word) - n + 1)
    ]
    sizes = np.fromiter(map(len, padded), dtype=np.int64, count=len(padded))
    n_grams = np.clip(sizes[:, None] - np.arange(lo, hi + 1)[None, :] + 1, 0, None).sum(axis=1)
    return grams, n_grams


def _group_by_word(per_word: list[np.ndarray], gram_ids: np.ndarray, gram_words: np.ndarray) -> list[np.ndarray]:
    """Ids of each word: its entry in every per_word array, then the n-gram ids whose
    gram_words is that word, in order; -1 (not in the vocabulary) dropped."""
    n = len(per_word[0])
    if n == 0:
        return []
    ids = np.concatenate([*per_word, gram_ids])
    owner = np.concatenate([np.arange(n)] * len(per_word) + [gram_words])
    known = ids >= 0
    ids, owner = ids[known], owner[known]
    ids = ids[np.argsort(owner, kind="stable")]
    bounds = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(owner, minlength=n), out=bounds[1:])
    bounds = bounds.tolist()
    return [ids[start:end] for start, end in zip(bounds, bounds[1:])]


def _pair_strings(keys: np.ndarray, bares: Sequence[str]) -> list[str]:
    """Diacritic-free bigrams "first second" of the pair keys of _Tokens.pairs."""
    n = len(bares)
    return [f"{bares[key // n]} {bares[key % n]}" for key in keys.tolist()]


def _areas(docs) -> tuple[np.ndarray, list[str]]:
    """Documents that have an area, and its key."""
    keys = [_area_key(area) for _, area in docs]
    rows = [i for i, key in enumerate(keys) if key is not None]
    return np.asarray(rows, dtype=np.int64), [keys[i] for i in rows]
