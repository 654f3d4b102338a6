"""Possible serious medical incidents (sự cố y khoa, seed 004) are flagged; ordinary complaints are not."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callcenter.domain.incident import IncidentFlag, detect_incident, incident_phrases
from callcenter.domain.text import nfd, strip_diacritics

POSITIVES = [
    ("Tiêm nhầm thuốc cho bệnh nhân giường bên cạnh.", "nhầm thuốc / sai thuốc"),
    ("Điều dưỡng cho bố tôi uống nhầm thuốc của người khác.", "nhầm thuốc / sai thuốc"),
    ("Trạm y tế tiêm thuốc hết hạn cho con tôi.", "nhầm thuốc / sai thuốc"),
    ("Mẹ tôi tử vong sau ca mổ ruột thừa.", "tử vong"),
    ("Ông tôi vào viện mổ rồi không qua khỏi.", "tử vong"),
    ("Con tôi bị sốc phản vệ sau khi tiêm kháng sinh.", "sốc phản vệ"),
    ("Bác sĩ mổ nhầm bên thận của bố tôi.", "phẫu thuật nhầm / bỏ quên dụng cụ"),
    ("Phẫu thuật xong để quên gạc trong bụng.", "phẫu thuật nhầm / bỏ quên dụng cụ"),
    ("Bệnh viện truyền nhầm nhóm máu cho sản phụ.", "sai nhóm máu / truyền máu"),
    ("Khoa sơ sinh trao nhầm con cho gia đình khác.", "nhầm người bệnh"),
    ("Bà tôi bị ngã trong nhà vệ sinh khoa nội, gãy xương hông.", "ngã / té trong cơ sở"),
    ("Vết mổ bị nhiễm trùng, chảy mủ sau một tuần.", "nhiễm khuẩn bệnh viện"),
    ("Sau sinh mổ chị tôi bị nhiễm khuẩn huyết.", "nhiễm khuẩn bệnh viện"),
    ("Nội soi xong bị thủng ruột phải mổ cấp cứu.", "biến chứng nặng / tổn thương vĩnh viễn"),
    ("Bệnh nhân tâm thần nhảy lầu trong khu điều trị.", "tự tử / bắt cóc / mất tích"),
]

NEGATIVES = [
    "Nhà thuốc bệnh viện bán thuốc hết hạn.",  # a sale, not a dose given: not an incident
    "Thuốc hết hạn.",
    "Tôi xếp hàng từ sáng chưa được khám.",
    "Nhân viên nói năng cộc cằn với mẹ tôi.",
    "Thẻ bảo hiểm y tế không được chấp nhận.",
    "Bệnh viện ở ngay ngã tư nên rất khó đỗ xe.",
    "May mà cháu không bị sốc phản vệ.",
    "Chưa ghi nhận trường hợp nào tử vong.",
    "Tôi để quên điện thoại ở phòng chờ.",
    "Bác sĩ giải thích kỹ nguy cơ biến chứng trước khi mổ.",
    "Đi nhầm phòng vì không có biển chỉ dẫn.",
    "Chờ kết quả xét nghiệm mệt chết đi được.",
    "Bị ngã xe ngoài đường, hỏi bảo hiểm có trả không.",
    "",
]


@pytest.mark.parametrize(("text", "reason"), POSITIVES)
def test_serious_incidents_are_flagged_with_their_reason(text: str, reason: str) -> None:
    flag = detect_incident(text)
    assert flag.flagged and flag
    assert reason in flag.reasons


@pytest.mark.parametrize("text", NEGATIVES)
def test_ordinary_complaints_are_not_flagged(text: str) -> None:
    flag = detect_incident(text)
    assert flag == IncidentFlag(False, ())
    assert not flag


@pytest.mark.parametrize("text", [t for t, _ in POSITIVES] + NEGATIVES)
def test_accents_case_and_unicode_form_do_not_matter(text: str) -> None:
    expected = detect_incident(text)
    for variant in (strip_diacritics(text), text.upper(), nfd(text)):
        assert detect_incident(variant) == expected, variant


@pytest.mark.parametrize(
    "text",
    [
        "con tôi bị xốc phản vệ",  # s/x
        "tiêmnhầm thuốc cho bà tôi",  # merged words
        "bac si mo nham chan cho bo toi",  # no accents
        "phẩu thuật bỏ quên kéo trong bụng",  # misspelling
    ],
)
def test_recogniser_errors_are_tolerated(text: str) -> None:
    assert detect_incident(text).flagged


def test_denial_clears_only_the_denied_event() -> None:
    flag = detect_incident("Không ai bị sốc phản vệ nhưng bà tôi bị ngã từ giường bệnh.")
    assert flag.reasons == ("ngã / té trong cơ sở",)


def test_a_negation_elsewhere_does_not_clear_the_event() -> None:
    # "không theo dõi" negates the watching, not the death that followed.
    assert detect_incident("Điều dưỡng không theo dõi nên bệnh nhân tử vong.").reasons == ("tử vong",)


def test_reasons_are_unique_and_in_text_order() -> None:
    flag = detect_incident("Tiêm nhầm thuốc, cháu bị sốc phản vệ rồi tử vong; tiêm nhầm là lỗi của trạm.")
    assert flag.reasons == ("nhầm thuốc / sai thuốc", "sốc phản vệ", "tử vong")


def test_every_reason_has_triggers() -> None:
    groups = incident_phrases()
    assert len(groups) >= 8
    assert all(groups.values())


@given(st.text(max_size=200))
def test_flag_and_reasons_agree(text: str) -> None:
    flag = detect_incident(text)
    assert flag.flagged == bool(flag.reasons)
    assert len(set(flag.reasons)) == len(flag.reasons)
