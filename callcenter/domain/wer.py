"""Word error rate: (substitutions + deletions + insertions) / words in the reference.

Both texts are normalised first: Unicode NFC (Vietnamese tone marks arrive composed or decomposed
depending on the source), case-folded, punctuation removed, whitespace collapsed. Tone marks are kept:
"ma", "má" and "mà" are different words.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class WerResult:
    substitutions: int
    deletions: int
    insertions: int
    reference_words: int

    @property
    def errors(self) -> int:
        return self.substitutions + self.deletions + self.insertions

    @property
    def wer(self) -> float:
        return self.errors / self.reference_words


def normalize_words(text: str) -> list[str]:
    text = unicodedata.normalize("NFC", text).casefold()
    kept = "".join(" " if unicodedata.category(c).startswith("P") else c for c in text)
    return kept.split()


def align(reference: str, hypothesis: str) -> WerResult:
    """Levenshtein alignment over words; ties prefer substitutions, then deletions."""
    ref, hyp = normalize_words(reference), normalize_words(hypothesis)
    if not ref:
        raise ValueError("the reference has no words: word error rate is undefined")
    # Each cell: (cost, substitutions, deletions, insertions) of the best path so far.
    prev = [(j, 0, 0, j) for j in range(len(hyp) + 1)]
    for i, r in enumerate(ref, start=1):
        row = [(i, 0, i, 0)]
        for j, h in enumerate(hyp, start=1):
            c, s, d, n = prev[j - 1]
            best = (c, s, d, n) if r == h else (c + 1, s + 1, d, n)
            c, s, d, n = prev[j]
            if c + 1 < best[0]:
                best = (c + 1, s, d + 1, n)
            c, s, d, n = row[j - 1]
            if c + 1 < best[0]:
                best = (c + 1, s, d, n + 1)
            row.append(best)
        prev = row
    _, s, d, n = prev[-1]
    return WerResult(s, d, n, len(ref))


def word_error_rate(reference: str, hypothesis: str) -> float:
    return align(reference, hypothesis).wer
