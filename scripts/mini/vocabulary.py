"""A CLIP BPE vocabulary for the grammar: merges learned from the corpus words, so that every
word of the grammar is one token (written as vocab.json/merges.txt by clip_fixtures)."""
from __future__ import annotations

import collections


def learn_merges(words: list[str]) -> list[str]:
    """Byte-pair merges, most frequent pair first (ties broken alphabetically), until every word
    is a single symbol. Words end in the "</w>" marker, as CLIP's BPE writes them."""
    spelled = {word: list(word[:-1]) + [word[-1] + "</w>"] for word in words}
    merges = []
    while any(len(symbols) > 1 for symbols in spelled.values()):
        pairs = collections.Counter()
        for symbols in spelled.values():
            pairs.update(zip(symbols, symbols[1:]))
        best = min(pairs, key=lambda pair: (-pairs[pair], pair))
        merges.append(f"{best[0]} {best[1]}")
        for word, symbols in spelled.items():
            merged, i = [], 0
            while i < len(symbols):
                if i + 1 < len(symbols) and (symbols[i], symbols[i + 1]) == best:
                    merged.append(symbols[i] + symbols[i + 1])
                    i += 2
                else:
                    merged.append(symbols[i])
                    i += 1
            spelled[word] = merged
    return merges
