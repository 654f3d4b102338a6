"""Personal identifiers (CCCD/CMND, BHYT card, phone, digits read out as words) are masked; the rest of
the text, ordinary numbers included, is left exactly as it was."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callcenter.domain.redact import mask_personal_data
from callcenter.domain.text import nfd

# Surrounding words: Vietnamese, none a digit word ("một", "năm"...) or a money unit ("đồng", "nghìn"),
# which would legitimately change how a neighbouring number reads.
WORD_TEXT = (
    "tôi gọi cho chị số của thẻ là ở xin cảm ơn phản ánh bệnh viện khoa nội đường dây nóng Sở Y tế mẹ anh "
    "bác sĩ thuốc trạm xã huyện tỉnh người nhà hotline căn cước điện thoại liên hệ lại giúp ạ nhé"
)
WORDS = WORD_TEXT.split()
words = st.lists(st.sampled_from(WORDS), min_size=0, max_size=6).map(" ".join)
digits = st.integers(0, 9).map(str)


def n_digits(n: int) -> st.SearchStrategy[str]:
    return st.lists(digits, min_size=n, max_size=n).map("".join)


@st.composite
def phones(draw: st.DrawFn) -> tuple[str, str]:
    """(as written, the 10 national digits): every common Vietnamese way of writing a mobile."""
    prefix = draw(st.sampled_from(["032", "039", "052", "070", "079", "081", "086", "090", "096", "098"]))
    number = prefix + draw(n_digits(7))
    sub = number[1:]
    style = draw(st.integers(0, 8))
    written = [
        number,
        f"{number[:4]} {number[4:7]} {number[7:]}",
        f"{number[:4]}.{number[4:7]}.{number[7:]}",
        f"{number[:3]}-{number[3:6]}-{number[6:]}",
        f"+84 {sub[:3]} {sub[3:6]} {sub[6:]}",
        f"+84{sub}",
        f"(+84) {sub[:2]}-{sub[2:5]}-{sub[5:]}",
        f"0084 {sub}",
        f"84{sub}",
    ][style]
    return written, number


@st.composite
def landlines(draw: st.DrawFn) -> tuple[str, str]:
    number = "02" + draw(st.sampled_from(["4", "8", "36", "51"])) + draw(n_digits(7))
    number = number[:11].ljust(11, "0")
    written = draw(st.sampled_from([number, f"{number[:4]} {number[4:7]} {number[7:]}"]))
    return written, number


@st.composite
def cccds(draw: st.DrawFn) -> tuple[str, str]:
    number = "0" + f"{draw(st.integers(1, 96)):02d}" + draw(n_digits(9))
    written = draw(
        st.sampled_from(
            [
                number,
                " ".join(number[i : i + 3] for i in range(0, 12, 3)),
                f"{number[:4]}.{number[4:8]}.{number[8:]}",
            ]
        )
    )
    return written, number


@st.composite
def cmnds(draw: st.DrawFn) -> tuple[str, str]:
    number = draw(n_digits(9))
    return draw(st.sampled_from([number, f"{number[:3]} {number[3:6]} {number[6:]}"])), number


@st.composite
def bhyt_cards(draw: st.DrawFn) -> tuple[str, str]:
    letters = draw(st.sampled_from(["DN", "HC", "CH", "GD", "HT", "TE", "CK", "HN", "BT", "XB"]))
    benefit = str(draw(st.integers(1, 5)))
    province = f"{draw(st.integers(1, 96)):02d}"
    tail = draw(n_digits(10))
    written = draw(
        st.sampled_from(
            [
                f"{letters}{benefit}{province}{tail}",
                f"{letters} {benefit} {province} {tail}",
                f"{letters}{benefit} {province} {tail[:3]} {tail[3:6]} {tail[6:]}",
                f"{letters.lower()}{benefit}{province}{tail}",
                f"{letters}-{benefit}-{province}-{tail}",
            ]
        )
    )
    return written, benefit + province + tail


KINDS = {"SĐT": st.one_of(phones(), landlines()), "CCCD": cccds(), "CMND": cmnds(), "BHYT": bhyt_cards()}


@pytest.mark.parametrize("kind", KINDS)
@given(data=st.data(), before=words, after=words, punct=st.sampled_from(["", ",", ".", "!"]))
def test_identifiers_in_any_text_are_masked_and_the_rest_is_kept(
    kind: str, data: st.DataObject, before: str, after: str, punct: str
) -> None:
    written, number = data.draw(KINDS[kind])
    head = f"{before} " if before else ""
    tail = f" {after}" if after else ""
    text = f"{head}{written}{punct}{tail}"

    assert mask_personal_data(text) == f"{head}[{kind}]{punct}{tail}"
    assert mask_personal_data(text, keep_last=3) == f"{head}[{kind} …{number[-3:]}]{punct}{tail}"


@st.composite
def ordinary_numbers(draw: st.DrawFn) -> str:
    day, month, year = draw(st.integers(1, 28)), draw(st.integers(1, 12)), draw(st.integers(1950, 2030))
    return draw(
        st.sampled_from(
            [
                f"{draw(st.integers(1, 110))} tuổi",
                f"phòng {draw(st.integers(1, 999))}",
                f"giường số {draw(st.integers(1, 60))}",
                f"{day}/{month}/{year}",
                f"{day:02d}-{month:02d}-{year}",
                f"ngày {day} tháng {month} năm {year}",
                f"{draw(st.integers(1, 999))} nghìn",
                f"{draw(st.integers(1, 999))}.000 đồng",
                f"{draw(st.integers(1, 999))}.{draw(st.integers(0, 999)):03d}.000 đồng",
                f"{draw(st.integers(100_000_000, 999_999_999))} đồng",
                f"{draw(st.integers(1, 99))} triệu",
                f"{draw(st.integers(1, 24))} giờ",
                f"{draw(st.integers(0, 23))}h{draw(st.integers(0, 59)):02d}",
                "1900-9095",
                "1900 9095",
                "115",
                f"{draw(st.integers(1, 100))}%",
                f"lần thứ {draw(st.integers(1, 20))}",
            ]
        )
    )


@given(st.lists(st.tuples(words, ordinary_numbers()), min_size=1, max_size=5))
def test_ordinary_numbers_survive(parts: list[tuple[str, str]]) -> None:
    text = " ".join(f"{w} {n} ạ" if w else f"{n} ạ" for w, n in parts)
    assert mask_personal_data(text) == text


def test_a_realistic_note() -> None:
    note = (
        "Bà Nguyễn Thị A, 67 tuổi, CCCD 001234567890, thẻ BHYT HT3 01 0123456789, SĐT 0912.345.678, "
        "nằm phòng 305 giường 12 từ ngày 12/12/2023, đã trả 1.200.000 đồng; gọi 1900 9095 không được."
    )
    assert mask_personal_data(note) == (
        "Bà Nguyễn Thị A, 67 tuổi, CCCD [CCCD], thẻ BHYT [BHYT], SĐT [SĐT], "
        "nằm phòng 305 giường 12 từ ngày 12/12/2023, đã trả 1.200.000 đồng; gọi 1900 9095 không được."
    )


DIGIT_WORDS = {
    "0": ["không"],
    "1": ["một", "mốt"],
    "2": ["hai"],
    "3": ["ba"],
    "4": ["bốn", "tư"],
    "5": ["năm", "lăm"],
    "6": ["sáu"],
    "7": ["bảy", "bẩy"],
    "8": ["tám"],
    "9": ["chín"],
}


@st.composite
def spoken_numbers(draw: st.DrawFn) -> tuple[str, str, str]:
    kind = draw(st.sampled_from(["SĐT", "CCCD", "CMND"]))
    number = {
        "SĐT": "09" + draw(n_digits(8)),
        "CCCD": "0" + draw(n_digits(11)),
        "CMND": "1" + draw(n_digits(8)),
    }[kind]
    said = [draw(st.sampled_from(DIGIT_WORDS[d])) for d in number]
    separator = draw(st.sampled_from([" ", ", ", " - "]))
    return separator.join(said), number, kind


@given(spoken=spoken_numbers(), before=words, after=words)
def test_numbers_read_out_as_words_are_masked(spoken: tuple[str, str, str], before: str, after: str) -> None:
    said, number, kind = spoken
    head = f"{before} " if before else ""
    tail = f" {after}" if after else ""
    assert mask_personal_data(f"{head}{said}{tail}") == f"{head}[{kind}]{tail}"
    assert mask_personal_data(f"{head}{said}{tail}", keep_last=4) == f"{head}[{kind} …{number[-4:]}]{tail}"


@pytest.mark.parametrize(
    "text",
    [
        "tôi hai ba lần gọi mà không ai nghe",
        "năm nay mẹ tôi bảy mươi tám tuổi",
        "ngày mười hai tháng ba năm hai nghìn không trăm hai mươi tư",
        "một hai ba bốn năm sáu bảy tám",  # eight digits: too short to be an ID
        "năm 2022, năm 2023 và năm 2024",
    ],
)
def test_ordinary_speech_with_number_words_survives(text: str) -> None:
    assert mask_personal_data(text) == text


def test_recogniser_without_accents_and_mixed_digits() -> None:
    assert (
        mask_personal_data("so cua toi la khong chin mot hai 3 4 5 sau bay tam nhe")
        == "so cua toi la [SĐT] nhe"
    )


def test_insurance_number_without_letters_needs_an_insurance_word_before_it() -> None:
    assert mask_personal_data("mã số bảo hiểm xã hội 7912345678") == "mã số bảo hiểm xã hội [BHYT]"
    assert mask_personal_data("mã thẻ 4797912345678 ạ") == "mã thẻ [BHYT] ạ"
    # Without the cue a 10-digit number not starting with 0 is not recognisably personal.
    assert mask_personal_data("mã đơn hàng 7912345678") == "mã đơn hàng 7912345678"


def test_decomposed_input_is_masked_and_kept_decomposed() -> None:
    text = nfd("Số của tôi: không chín một hai ba bốn năm sáu bảy tám, cảm ơn chị.")
    assert mask_personal_data(text) == nfd("Số của tôi: [SĐT], cảm ơn chị.")


@given(st.text(max_size=120))
def test_masking_is_idempotent_and_never_fails(text: str) -> None:
    once = mask_personal_data(text)
    assert mask_personal_data(once) == once
