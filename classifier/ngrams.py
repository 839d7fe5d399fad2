"""Exact look-up of every character n-gram of a long string at once, with numpy instead of one dictionary probe per n-gram."""

from __future__ import annotations

import numpy as np

__all__ = ["NgramIndex"]


def _code_points(text: str) -> np.ndarray:
    # surrogatepass: a lone surrogate (from badly decoded input) is a character like any other.
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4").astype(np.int64)


class NgramIndex:
    """A trie of sorted arrays over a vocabulary of n-grams.

    Level k holds the keys (node of the first k characters) * base + rank of
    character k+1, sorted; a node is its key's position + 1 (0: no such prefix).
    Looking up every n-gram of a string walks all start positions down the levels
    together: one searchsorted per level instead of one dictionary probe (and one
    sliced string) per n-gram.
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
            self._levels.append(np.append(key[first], np.iinfo(np.int64).max))  # sentinel, as above
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
        node = np.zeros(size, dtype=np.int64)
        found: dict[int, np.ndarray] = {}
        for k in range(depth):
            # A dead prefix (node 0) or an unknown character (rank 0) never matches a key.
            key = node * self._base + ranks[k : k + size]
            level = self._levels[k]
            at = np.searchsorted(level, key)
            node = np.where(level[at] == key, at + 1, 0)
            found[k + 1] = self._ids[k][node]
        return [found.get(n, np.full(size, -1, dtype=np.int64)) for n in lengths]
