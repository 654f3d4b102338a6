"""Flag complaints that may describe a serious medical incident (sự cố y khoa), which a facility must
report to the Sở Y tế at once (seed 004) — so the ticket is raised to HIGH priority and a person looks.

The groups follow the serious-incident list of Thông tư 43/2018/TT-BYT (surgery on the wrong patient or
site, retained instruments, medication and transfusion errors, death or permanent harm, falls,
anaphylaxis, hospital infection, infant abduction or swap, suicide in care) in the words callers use.
A flag is a prompt for a human, so recall matters more than precision; explicit denial ("không bị sốc
phản vệ", "chưa có ai tử vong") still clears a phrase, and bare mentions that are not events
("thuốc hết hạn", "ngã tư") do not count.
"""

from __future__ import annotations

from dataclasses import dataclass

from callcenter.domain.text import PhraseIndex, preceded_by_negation, tokenize


@dataclass(frozen=True)
class IncidentFlag:
    flagged: bool
    reasons: tuple[str, ...]  # Vietnamese group labels, in the order they appear in the text

    def __bool__(self) -> bool:
        return self.flagged


# reason label -> phrases ("a | b | c"). Matching folds accents and tolerates recogniser errors
# (text.PhraseIndex), so each phrase is written once, with accents.
_GROUPS: dict[str, str] = {
    "nhầm thuốc / sai thuốc": """
        nhầm thuốc | sai thuốc | tiêm nhầm | chích nhầm | truyền nhầm | uống nhầm | cho nhầm thuốc
        | phát nhầm thuốc | đưa nhầm thuốc | tiêm sai | truyền sai | sai liều | nhầm liều | quá liều
        | tiêm quá liều | tiêm thuốc hết hạn | truyền thuốc hết hạn | truyền dịch hết hạn""",
    "tử vong": """
        tử vong | chết | qua đời | không qua khỏi | thiệt mạng | thai chết lưu | chết lưu | ngừng tim
        | ngưng tim | ngừng thở | ngưng thở""",
    "sốc phản vệ": "sốc phản vệ | phản vệ | sốc thuốc | shock phản vệ",
    "phẫu thuật nhầm / bỏ quên dụng cụ": """
        mổ nhầm | phẫu thuật nhầm | cắt nhầm | mổ sai | mổ nhầm bên | mổ nhầm chân | bỏ quên | để quên
        | sót gạc | quên gạc | bỏ quên gạc | quên dụng cụ | sót dụng cụ | sót kim | quên kéo | mổ lại lấy""",
    "nhầm người bệnh": """
        nhầm người bệnh | nhầm bệnh nhân | nhầm người | trao nhầm | nhầm con | nhầm trẻ | nhầm em bé
        | đổi nhầm con""",
    "sai nhóm máu / truyền máu": """
        sai nhóm máu | nhầm nhóm máu | truyền nhầm máu | truyền máu nhầm | khác nhóm máu | truyền sai máu
        | tai biến truyền máu""",
    "ngã / té trong cơ sở": """
        bị ngã | té ngã | ngã từ giường | ngã từ trên | ngã xuống | ngã khỏi | té từ | té xuống
        | rơi từ giường | ngã trong | té trong | ngã cầu thang | trượt ngã | bị té | rơi khỏi giường""",
    "nhiễm khuẩn bệnh viện": """
        nhiễm khuẩn bệnh viện | nhiễm khuẩn | nhiễm trùng vết mổ | nhiễm trùng sau mổ
        | nhiễm trùng sau phẫu thuật | nhiễm trùng máu | nhiễm khuẩn huyết | lây nhiễm chéo
        | nhiễm trùng bệnh viện | vết mổ nhiễm trùng | vết mổ bị nhiễm trùng | nhiễm trùng sau sinh
        | nhiễm trùng do tiêm | áp xe chỗ tiêm""",
    "biến chứng nặng / tổn thương vĩnh viễn": """
        biến chứng | tai biến | hôn mê | bị liệt | liệt nửa người | tàn tật | tàn phế | cắt cụt
        | mất khả năng | tổn thương vĩnh viễn | di chứng | hoại tử | băng huyết | suy hô hấp | mù mắt
        | bị mù | thủng ruột | thủng tử cung | vỡ tử cung | mất máu nhiều | mổ lại | cấp cứu không kịp
        | không cấp cứu kịp | trở nặng | nguy kịch | thở máy""",
    "sự cố y khoa": "sự cố y khoa | sai sót chuyên môn | sai sót y khoa | tai nạn y khoa",
    "tự tử / bắt cóc / mất tích": """
        tự tử | tự sát | nhảy lầu | bắt cóc | bị bắt trộm | mất tích | bỏ trốn khỏi viện | trốn viện""",
}
# Phrases that contain a trigger but are not an event: they carry no weight and, being longer, hide the
# trigger inside them (PhraseIndex drops dominated matches). "ngã tư" folds like "ngã từ", so the fall
# triggers say "ngã từ giường" / "ngã từ trên", never bare "ngã từ".
_NEUTRAL = """
    ngã ba | ngã tư | ngã năm | ngã sáu | chết tiệt | mệt chết | chết đói | chờ chết | sợ chết
    | nguy cơ tử vong | nguy cơ biến chứng | phòng biến chứng | phòng ngừa sự cố | tránh biến chứng
    | sợ biến chứng | lo biến chứng | thuốc hết hạn | hết hạn | bỏ quên đồ | để quên đồ
    | để quên điện thoại | bỏ quên điện thoại | để quên ví | quên ví | để quên giấy tờ | bỏ quên giấy tờ
    | quên giấy tờ | nhầm phòng | nhầm đường | nhầm số | nhầm giờ | nhầm lịch | cháy máy | chết máy
    | máy chết | mất khả năng chi trả | ngã xe | té xe | ngã xe máy | bị ngã xe | bị té xe"""

# Denial: a negator before the phrase, optionally with a few linking words between
# ("không bị", "chưa có ai bị", "không hề", "may mà không bị").
_NEGATORS = frozenset({"khong", "chua", "chang", "cha", "ko", "k", "kg", "khg", "hong", "hok", "khoi"})
_FILLERS = frozenset(
    {
        "bi",
        "he",
        "phai",
        "co",
        "ai",
        "gi",
        "la",
        "de",
        "xay",
        "ra",
        "thay",
        "ghi",
        "nhan",
        "truong",
        "hop",
        "nao",
    }
)
_MAX_FILLERS = 5  # "chưa ghi nhận trường hợp nào tử vong"


def _split(spec: str) -> list[str]:
    return [label.strip() for label in spec.split("|") if label.strip()]


# Keyed by folded tokens, as the matcher sees phrases ("ngừng tim" and "ngưng tim" are one entry).
_REASON_OF: dict[tuple[str, ...], str] = {
    tokenize(phrase): reason for reason, spec in _GROUPS.items() for phrase in _split(spec)
}
_INDEX = PhraseIndex([*(p for spec in _GROUPS.values() for p in _split(spec)), *_split(_NEUTRAL)])


def incident_phrases() -> dict[str, tuple[str, ...]]:
    """Reason -> trigger phrases, for review tools and tests."""
    return {reason: tuple(_split(spec)) for reason, spec in _GROUPS.items()}


def detect_incident(text: str) -> IncidentFlag:
    """Whether `text` may describe a serious medical incident, and which kinds."""
    tokens, matches = _INDEX.find_text(text)
    reasons: list[str] = []
    for m in matches:
        reason = _REASON_OF.get(m.phrase.tokens)
        if reason is None or reason in reasons:
            continue
        if preceded_by_negation(tokens, m.start, _NEGATORS, _FILLERS, _MAX_FILLERS):
            continue
        reasons.append(reason)
    return IncidentFlag(bool(reasons), tuple(reasons))
