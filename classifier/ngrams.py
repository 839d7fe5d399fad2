"""Exact look-up of every character n-gram of a long string at once, with numpy instead of one dictionary probe per n-gram."""

from __future__ import annotations

import numpy as np

__all__ = ["NgramIndex"]

# Levels with at most this many possible keys map keys to nodes with a table
# (one gather, 4 MB at most) instead of a binary search.
_DENSE_LIMIT = 1 << 20


def _code_points(text: str) -> np.ndarray:
    # surrogatepass: a lone surrogate (from badly decoded input) is a character like any other.
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4").astype(np.int64)


class NgramIndex:
    """A trie of sorted arrays over a vocabulary of n-grams.

    Level k holds the keys (node of the first k characters) * base + rank of
    character k+1, sorted; a node is its key's position + 1 (0: no such prefix).
    Looking up every n-gram of a string walks all start positions down the levels
    together: one searchsorted (or, on the first levels, one table look-up) per
    level instead of one dictionary probe (and one sliced string) per n-gram.
    """

    def __init__(self, grams: list[str], ids: np.ndarray):
        lengths = np.fromiter(map(len, grams), dtype=np.int64, count=len(grams))
        codes = _code_points("".join(grams))
        alphabet = np.unique(codes)
        self._base = len(alphabet) + 1
        # A sentinel larger than any code point: searchsorted never runs past the end.
        self._alphabet = np.append(alphabet, np.iinfo(np.int64).max)
        # One row of character ranks per n-gram (0 past its end), rows in
        # lexicographic order: every level's keys then come out sorted.
        depth = int(lengths.max(initial=0))
        ranks = np.zeros((len(grams), depth), dtype=np.int64)
        rows = np.repeat(np.arange(len(grams)), lengths)
        starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
        ranks[rows, np.arange(len(codes)) - starts] = np.searchsorted(alphabet, codes) + 1
        order = np.lexsort(ranks.T[::-1]) if depth else np.arange(len(grams))
        ranks, lengths, ids = ranks[order], lengths[order], np.asarray(ids, dtype=np.int64)[order]
        node = np.zeros(len(grams), dtype=np.int64)
        self._levels: list[np.ndarray] = []
        self._dense: list[bool] = []
        self._sizes: list[int] = []  # nodes per level
        self._ids: list[np.ndarray] = []  # per level: id of the n-gram ending at each node, -1 if none
        for k in range(depth):
            longer = np.flatnonzero(lengths > k)
            key = node[longer] * self._base + ranks[longer, k]
            first = np.ones(len(key), dtype=bool)
            first[1:] = key[1:] != key[:-1]
            node[longer] = np.cumsum(first)
            ending = longer[lengths[longer] == k + 1]
            found = np.full(int(first.sum()) + 1, -1, dtype=np.int64)
            found[node[ending]] = ids[ending]
            keys = key[first]
            possible = ((self._sizes[-1] if k else 0) + 1) * self._base  # keys are below this
            if possible <= _DENSE_LIMIT:
                # Few possible keys (the first levels): a table from key to node.
                table = np.zeros(possible, dtype=np.int32)  # nodes are below possible
                table[keys] = np.arange(1, len(keys) + 1)
                self._levels.append(table)
            else:
                self._levels.append(np.append(keys, np.iinfo(np.int64).max))  # sentinel, as above
            self._dense.append(possible <= _DENSE_LIMIT)
            self._sizes.append(len(keys))
            self._ids.append(found)

    def find(self, text: str, lengths: range) -> list[np.ndarray]:
        """For each n in lengths, the id of the n-gram starting at every position of text (-1: none)."""
        codes = _code_points(text)
        size = len(codes)
        depth = min(max(lengths, default=0), len(self._levels))
        position = np.searchsorted(self._alphabet, codes)
        # Ranks of the characters, 0 for characters no n-gram has and past the end.
        ranks = np.zeros(size + depth, dtype=np.int64)
        known = self._alphabet[position] == codes
        ranks[:size][known] = position[known] + 1
        found = {n: np.full(size, -1, dtype=np.int64) for n in lengths}
        # Only the start positions whose prefix is still in the trie walk on.
        walking = np.flatnonzero(known)
        node = np.zeros(len(walking), dtype=np.int64)
        for k in range(depth):
            key = node * self._base + ranks[walking + k]
            level = self._levels[k]
            if self._dense[k]:
                node = level[key]
                hit = node > 0
                walking, node = walking[hit], node[hit].astype(np.int64)
            else:
                at = np.searchsorted(level, key)
                # An unknown character (rank 0) or the end of the text never matches a key.
                hit = level[at] == key
                walking, node = walking[hit], at[hit] + 1
            if k + 1 in found:
                found[k + 1][walking] = self._ids[k][node]
        return [found[n] for n in lengths]
