"""Vietnamese text normalisation: folding, tokens, search keys, recogniser-error keys, phrase matching."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callcenter.domain.text import (
    MatchKind,
    PhraseIndex,
    accent_key,
    clean,
    contains_phrase,
    fold,
    is_syllable,
    nfc,
    nfd,
    phonetic_key,
    search_key,
    split_merged,
    strip_diacritics,
    tokenize,
    tokens_with_accents,
    within_one_edit,
)

# Every Vietnamese vowel in all six tones, plus đ: the whole alphabet that must fold to ASCII.
VOWELS = {
    "a": "aàáảãạăằắẳẵặâầấẩẫậ",
    "e": "eèéẻẽẹêềếểễệ",
    "i": "iìíỉĩị",
    "o": "oòóỏõọôồốổỗộơờớởỡợ",
    "u": "uùúủũụưừứửữự",
    "y": "yỳýỷỹỵ",
    "d": "dđ",
}

vietnamese_text = st.text(
    alphabet=st.sampled_from("".join(VOWELS.values()) + "bcghklmnpqrstvx ĐÂƯƠ,.!?-\n0123456789"),
    max_size=60,
)


@pytest.mark.parametrize(("base", "letters"), VOWELS.items())
def test_every_vietnamese_letter_folds_to_its_base(base: str, letters: str) -> None:
    for letter in letters:
        assert strip_diacritics(letter) == base
        assert strip_diacritics(letter.upper()) == base.upper()
        assert fold(letter.upper()) == base


def test_strip_diacritics_keeps_case_and_punctuation() -> None:
    assert strip_diacritics("Đường dây nóng: 1900-9095!") == "Duong day nong: 1900-9095!"
    # Ð (Icelandic eth) is what some keyboards and OCR produce for Đ.
    assert strip_diacritics("ÐÀ NẴNG") == "DA NANG"


def test_decomposed_and_composed_input_fold_alike() -> None:
    text = "Bệnh viện thiếu thuốc, người bệnh phải tự mua"
    assert nfd(text) != text
    assert tokenize(nfd(text)) == tokenize(text) == tokenize(nfc(nfd(text)))


def test_old_and_new_tone_placement_are_the_same_word() -> None:
    assert search_key("hoà") == search_key("hòa") == "hoa"
    assert accent_key("hoà") == accent_key("hòa")
    assert accent_key("khoẻ") == accent_key("khỏe")
    # ...but accents that change the word still differ.
    assert accent_key("đòi") != accent_key("đôi")


def test_tokenize_splits_on_punctuation_and_invisible_characters() -> None:
    assert tokenize("Vắc-xin, BHYT!\u00a0thẻ\u200bbảo hiểm") == ("vac", "xin", "bhyt", "the", "bao", "hiem")


def test_search_key_is_accent_and_case_insensitive() -> None:
    assert search_key("THIẾU   thuốc!!") == search_key("thieu thuoc") == "thieu thuoc"
    assert contains_phrase("Trạm y tế xã đang THIẾU thuốc, chị ạ.", "thieu thuoc")
    assert contains_phrase("thieu thuoc", "thiếu thuốc")
    # Whole words only: "an" is not inside "bạn".
    assert not contains_phrase("bạn tôi", "an")
    assert not contains_phrase("anything", "")


def test_clean_keeps_accents_and_collapses_whitespace() -> None:
    assert clean("  Bệnh\u200b viện \n\t tỉnh  ") == "Bệnh viện tỉnh"
    assert clean(nfd("Bệnh viện")) == "Bệnh viện"


@given(vietnamese_text)
def test_folding_is_idempotent_and_accent_free(text: str) -> None:
    folded = fold(text)
    assert fold(folded) == folded
    assert folded.isascii()
    assert search_key(strip_diacritics(text)) == search_key(text)
    assert tokenize(nfd(text)) == tokenize(text)


@pytest.mark.parametrize(
    ("merged", "parts"),
    [
        ("thieuthuoc", ["thieu", "thuoc"]),
        ("baohiem", ["bao", "hiem"]),
        ("vacxin", ["vac", "xin"]),
        ("benhvien", ["benh", "vien"]),
        ("metoi", ["me", "toi"]),
        ("rangoai", ["ra", "ngoai"]),
        ("thuochen", ["thuoc", "hen"]),
        ("truyendichbi", ["truyen", "dich", "bi"]),
    ],
)
def test_run_together_syllables_are_split(merged: str, parts: list[str]) -> None:
    assert split_merged(merged) == parts
    assert tokenize(" ".join(parts)) == tokenize(merged)


@pytest.mark.parametrize(
    "word", ["nghieng", "nguyen", "truong", "khuya", "giuong", "quyen", "bhyt", "csgt", "2023"]
)
def test_single_syllables_numbers_and_abbreviations_are_not_split(word: str) -> None:
    assert split_merged(word) == [word]


def test_syllable_shape() -> None:
    assert is_syllable("nghieng")
    assert not is_syllable("baohiem")


@pytest.mark.parametrize(
    ("heard", "meant"),
    [("sep", "xep"), ("cho", "tro"), ("dai", "giai"), ("dat", "rat"), ("thuot", "thuoc"), ("han", "hang")],
)
def test_phonetic_key_merges_common_recogniser_confusions(heard: str, meant: str) -> None:
    assert phonetic_key(heard) == phonetic_key(meant)


def test_phonetic_key_keeps_distinct_sounds_apart() -> None:
    assert phonetic_key("thuoc") != phonetic_key("thuong")
    assert phonetic_key("bao") != phonetic_key("pao")


def _levenshtein(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


@given(st.text(alphabet="abcd", max_size=8), st.text(alphabet="abcd", max_size=8))
def test_within_one_edit_agrees_with_levenshtein(a: str, b: str) -> None:
    assert within_one_edit(a, b) == (_levenshtein(a, b) <= 1)


def test_phrase_index_tolerates_accents_splits_and_recogniser_errors() -> None:
    index = PhraseIndex(["xếp hàng", "vắc xin", "bảo hiểm", "bảo hiểm xã hội", "insulin"])

    def found(text: str) -> list[tuple[str, MatchKind]]:
        return [(m.phrase.label, m.kind) for m in index.find_text(text)[1]]

    assert found("Xep hang") == [("xếp hàng", MatchKind.EXACT)]
    assert found("sếp hàng") == [("xếp hàng", MatchKind.PHONETIC)]
    assert found("thiếu insullin") == [("insulin", MatchKind.FUZZY)]
    # The shorter phrase inside a longer one is not counted again.
    assert found("bảo hiểm xã hội") == [("bảo hiểm xã hội", MatchKind.EXACT)]


def test_accent_disagreement_weakens_a_match_only_when_the_text_has_accents() -> None:
    index = PhraseIndex(["đòi tiền"])
    (accented,) = index.find_text("gấp đôi tiền")[1]
    (bare,) = index.find_text("gap doi tien")[1]
    (right,) = index.find_text("đòi tiền")[1]
    assert accented.accent_mismatch and accented.quality < right.quality
    assert not bare.accent_mismatch and bare.quality == right.quality


def test_tokens_with_accents_aligns_written_forms() -> None:
    tokens, accents = tokens_with_accents("Thẻ BHYT baohiem")
    assert tokens == ("the", "bhyt", "bao", "hiem")
    assert accents[0] == accent_key("thẻ")
    assert accents[1] == "bhyt"
    assert accents[2:] == (None, None)  # a split word's accents cannot be apportioned
