"""Word error rate (pure domain code)."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callcenter.domain.wer import align, normalize_words, word_error_rate


def test_identical() -> None:
    assert word_error_rate("tôi chờ cả buổi", "tôi chờ cả buổi") == 0.0


def test_substitution_deletion_insertion() -> None:
    r = align("tôi chờ cả buổi chiều", "tôi chờ cả buổi sáng nay")
    assert (r.substitutions, r.deletions, r.insertions, r.reference_words) == (1, 0, 1, 5)
    assert r.wer == pytest.approx(0.4)
    r = align("một hai ba bốn", "một ba")
    assert (r.substitutions, r.deletions, r.insertions) == (0, 2, 0)


def test_case_punctuation_and_unicode_forms_do_not_count() -> None:
    decomposed = unicodedata.normalize("NFD", "Bệnh viện hết thuốc.")
    assert word_error_rate("bệnh viện hết thuốc", decomposed) == 0.0
    assert normalize_words("Trạm y tế, xã!") == ["trạm", "y", "tế", "xã"]


def test_tone_marks_count() -> None:
    assert word_error_rate("ma má mà", "ma ma ma") == pytest.approx(2 / 3)


def test_an_empty_hypothesis_is_all_deletions_and_insertions_can_exceed_one() -> None:
    assert word_error_rate("một hai", "") == 1.0
    assert word_error_rate("một", "một một một") == 2.0


def test_an_empty_reference_is_refused() -> None:
    with pytest.raises(ValueError, match="reference"):
        word_error_rate(" , ", "x")


sentences = st.lists(st.sampled_from(["tôi", "bệnh", "viện", "thuốc", "chờ", "xã"]), min_size=1, max_size=12)


@given(ref=sentences, hyp=st.lists(st.sampled_from(["tôi", "bệnh", "khám", "chờ"]), max_size=12))
def test_the_alignment_adds_up(ref: list[str], hyp: list[str]) -> None:
    r = align(" ".join(ref), " ".join(hyp))
    hits = r.reference_words - r.substitutions - r.deletions
    assert hits + r.substitutions + r.insertions == len(hyp)
    assert max(len(ref), len(hyp)) >= r.errors >= abs(len(ref) - len(hyp))
