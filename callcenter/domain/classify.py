"""Suggest a complaint category from what the caller said (operator note or recogniser transcript).

A suggestion only: the duty officer confirms or changes it. The codes are the seven categories of the
period report (seed 002, `Category`) plus "khong_dung_tham_quyen" for matters outside the health
sector, which the report counts apart and forwards.

Method: hand-written weighted phrase lexicons, matched on folded text (`text.PhraseIndex`), so
accents, split/merged words and common recogniser confusions do not matter. Weights say how strongly a
phrase points at a category (3 = almost decisive, 1 = a clue, < 1 = a hint). A phrase may feed several
categories. No training data: the 20-line sample is far too small to learn from and would only be
memorised.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from callcenter.domain.text import PhraseIndex, tokenize
from callcenter.domain.ticket import Category


class SuggestionCode(StrEnum):
    """The seven report categories plus the out-of-jurisdiction bucket (values equal `Category`'s)."""

    THIEU_THUOC = "thieu_thuoc"
    QUY_TRINH_KHAM_BENH = "quy_trinh_kham_benh"
    QUY_TAC_UNG_XU = "quy_tac_ung_xu"
    CHUYEN_MON = "chuyen_mon"
    BHYT = "bhyt"
    QUY_CHE_KE_DON = "quy_che_ke_don"
    KHAC = "khac"
    KHONG_DUNG_THAM_QUYEN = "khong_dung_tham_quyen"

    @property
    def category(self) -> Category | None:
        """The report category, or None when the matter is outside the health sector."""
        return None if self is SuggestionCode.KHONG_DUNG_THAM_QUYEN else Category(self.value)


@dataclass(frozen=True)
class CategorySuggestion:
    code: SuggestionCode
    confidence: float  # in [0, 1]; below ~0.35 treat as "no real idea"
    scores: dict[str, float]  # every code -> its evidence score (not normalised)
    matched: tuple[str, ...]  # lexicon phrases that supported `code`, in text order

    @property
    def outside_jurisdiction(self) -> bool:
        return self.code is SuggestionCode.KHONG_DUNG_THAM_QUYEN


C = SuggestionCode

# Lexicons. One line: "<weight>: phrase | phrase | ...". Written with accents for readability; matching
# folds them. Single syllables are avoided where folding makes them collide with common words
# (bẩn/bán/bận, hôi/hỏi, quát/quạt, mắng/mang/mạng, đuổi/dưới, hưởng/hướng, mổ/mở), hence the phrases.
_LEXICON_TEXT: dict[SuggestionCode, str] = {
    C.THIEU_THUOC: """
        3.0: thiếu thuốc | hết thuốc | không có thuốc | không còn thuốc | không đủ thuốc | khan hiếm thuốc
        3.0: thiếu vắc xin | hết vắc xin | không có vắc xin | không còn vắc xin | khan hiếm vắc xin
        3.0: thiếu vật tư | hết vật tư | thiếu vật tư y tế | không có vật tư | thiếu vtyt
        2.5: cung ứng thuốc | đứt hàng | đứt thuốc | thuốc chưa về | chưa về thuốc | vắc xin chưa về
        2.5: cấp thiếu thuốc | phát thiếu thuốc | không cấp đủ | không cấp thuốc | thiếu dịch truyền
        2.5: hết dịch truyền | thiếu hóa chất | hết hóa chất | hết sinh phẩm | thiếu sinh phẩm
        2.0: khan hiếm | hết hàng | không có hàng | chưa có hàng | tự mua thuốc | tự đi mua | tự túc thuốc
        2.0: thiếu trang thiết bị | thiếu máu dự trữ | hết máu dự trữ | hết huyết thanh | hết oxy
        1.5: mua ngoài | mua bên ngoài | mua ở ngoài | ra ngoài mua | tự mua | mua thêm bên ngoài
        1.2: vật tư y tế | vtyt | vắc xin | vaccine | tiêm chủng | tiêm chủng mở rộng | dịch truyền
        1.0: insulin | huyết thanh | kháng nọc | găng tay | bông băng | kim tiêm | bơm tiêm | que thử
        1.0: bình oxy | ống thông | stent | chỉ khâu | không đủ | tiêm phòng
        0.6: thiếu | chưa có | hiệu thuốc | nhà thuốc bên ngoài
    """,
    C.QUY_TRINH_KHAM_BENH: """
        3.0: quy trình khám | thủ tục hành chính | thủ tục nhập viện | thủ tục xuất viện | thủ tục chuyển viện
        2.5: rườm rà | phiền hà | xếp hàng | chờ đợi | chờ quá lâu | đợi quá lâu | chờ lâu | đợi lâu
        2.5: chưa được khám | chưa tới lượt | chưa đến lượt | số thứ tự | bốc số | lấy số | chen ngang
        2.0: thủ tục | giấy chuyển viện | giấy chuyển tuyến | chờ kết quả | trả kết quả | lấy kết quả
        2.0: hẹn đi hẹn lại | hẹn lên hẹn xuống | thời gian chờ | ngồi chờ | nằm chờ | đứng chờ | chờ mãi
        2.0: đăng ký khám | đặt lịch khám | khám trực tuyến | đăng ký trực tuyến | giờ khám | giờ làm việc
        2.0: không ai tiếp nhận | không ai hướng dẫn | biển chỉ dẫn | chỉ dẫn | đi lại nhiều | nhiều phòng
        2.5: giấy chứng sinh | cấp giấy chứng sinh | giấy báo tử | giấy khám sức khỏe
        1.5: tạm ứng | đóng tạm ứng | thu ngân | đóng tiền | nộp tiền | thất lạc | hồ sơ bệnh án | bệnh án
        1.5: nghỉ sớm | đến muộn | đi muộn | không có bác sĩ | chụp lại | xét nghiệm lại | khám sức khỏe
        1.5: quầy thu ngân | quầy tiếp đón | quầy đăng ký
        1.5: ký duyệt | giấy ra viện | giấy nghỉ ốm | giấy chứng nhận | cấp giấy | giấy tờ | hồ sơ
        1.2: chuyển viện | chuyển tuyến | nhập viện | xuất viện | ra viện | tiếp nhận | hướng dẫn
        1.2: quá lâu | lâu quá | rất lâu | cả buổi | cả ngày | tiếng đồng hồ | từ sáng | chậm trễ | hẹn lại
        1.0: làm lại | phát số | lượt khám | khám trước | ưu tiên | nằm ghép | kết quả xét nghiệm | lịch khám
        0.5: tuyến trên | tuyến dưới
    """,
    C.QUY_TAC_UNG_XU: """
        3.0: thái độ | quy tắc ứng xử | thái độ phục vụ | thô lỗ | cộc cằn | hách dịch | quát mắng
        3.0: quát tháo | quát nạt | nạt nộ | la mắng | mắng chửi | chửi bới | chửi mắng | xúc phạm | lăng mạ
        3.0: phong bì | lót tay | tiền lót tay | vòi tiền | tiền cảm ơn | nhũng nhiễu
        2.5: đòi tiền | xin tiền
        2.5: gắt gỏng | cáu gắt | to tiếng | lớn tiếng | miệt thị | khinh thường | coi thường | thờ ơ
        2.5: vô cảm | xô đẩy | hành hung | đánh người | bồi dưỡng | tiền bồi dưỡng | gây khó khăn
        2.5: gây khó dễ | làm khó | thiếu tôn trọng | vô lễ | hỗn láo | phân biệt đối xử | cúp máy
        2.5: cúp ngang | dập máy | tắt máy | bị chửi | bị mắng | bị quát | mắng mỏ | mắng nhiếc | bị nạt
        2.0: ứng xử | giao tiếp | ăn nói | nói năng | xua đuổi | đuổi ra | đuổi về | đuổi đi | không thèm
        2.0: tiêu cực | phòng khám tư | khám tư | đe dọa | quấy rối | sàm sỡ | say rượu
        2.0: bỏ mặc | mặc kệ | cãi nhau | cãi lại | ép ký | ép buộc | bấm điện thoại
        1.5: khó chịu | lạnh lùng | không quan tâm | thiếu trách nhiệm | gợi ý | không nhiệt tình
        1.5: nghe điện thoại | khám ngoài giờ
        1.5: nhân viên bảo vệ | bảo vệ bệnh viện | anh bảo vệ | chú bảo vệ | phục vụ | cửa sau
        1.0: trả lời
        0.5: nhân viên | điều dưỡng | y tá | hộ lý
    """,
    C.CHUYEN_MON: """
        3.0: chẩn đoán sai | chẩn đoán nhầm | sai chẩn đoán | điều trị sai | sự cố y khoa | sai sót chuyên môn
        3.0: tiêm nhầm | truyền nhầm | mổ nhầm | phẫu thuật nhầm | cắt nhầm | chích nhầm | nhầm thuốc
        3.0: bỏ quên | để quên | quên gạc | sót gạc | sốc phản vệ | phản vệ | sốc thuốc | tai biến
        3.0: tử vong | biến chứng | nhầm người bệnh | nhầm bệnh nhân | sai nhóm máu | nhầm nhóm máu
        2.5: chết | qua đời | bỏ sót | mổ lại | nhiễm trùng | nhiễm khuẩn | tay nghề | trình độ chuyên môn
        2.5: sai thuốc | sai liều | quá liều | đọc nhầm | đọc sai | nhầm kết quả | kết quả sai
        2.5: xét nghiệm sai
        2.5: khám qua loa | khám sơ sài | không khám kỹ | cấp cứu chậm | chậm cấp cứu | chậm chuyển tuyến
        2.5: không cấp cứu kịp | xử trí | hôn mê | băng huyết | di chứng | hoại tử
        2.0: chẩn đoán | điều trị không đúng | phác đồ | chuyên môn | sai sót | nhầm lẫn | sai kỹ thuật
        2.0: vết mổ | ca mổ | sau mổ | sau phẫu thuật | gây mê | gây tê | thủ thuật | trở nặng | nặng hơn
        2.0: xuất huyết | chảy máu | bị ngã | té ngã | ngã từ giường | không theo dõi | cho về nhà
        2.0: dị ứng thuốc | bó bột | thai chết lưu | ngừng tim | suy hô hấp | bị liệt | cắt cụt | cưa chân
        1.5: phẫu thuật | biến chứng nặng | theo dõi | diễn biến | co giật | sản phụ | đỡ đẻ | cho về
        1.5: nhầm | qua loa | sơ sài | bị sưng | sưng to | sưng tấy | bị phù | phù nề | rút kim | kim truyền
        1.5: truyền dịch | nhổ răng | lệch | bị gãy | gãy chân | gãy tay | gãy xương | xử lý kịp thời
        1.0: điều trị | kỹ thuật | viêm | mổ đẻ | sinh mổ
        0.5: sai | xét nghiệm | siêu âm | nội soi
    """,
    C.BHYT: """
        3.0: bảo hiểm y tế | bhyt | thẻ bảo hiểm | thẻ bảo hiểm y tế | thẻ bhyt | bảo hiểm chi trả
        3.0: đúng tuyến | trái tuyến | vượt tuyến | thông tuyến | khám chữa bệnh ban đầu | kcb ban đầu
        3.0: mức hưởng | đồng chi trả | cùng chi trả | quyền lợi bảo hiểm | hưởng bảo hiểm | thuốc bảo hiểm
        2.5: bảo hiểm | quyền lợi | thẻ hết hạn | hết hạn thẻ | gia hạn thẻ | cấp thẻ | làm lại thẻ | mất thẻ
        2.5: khám dịch vụ | khám theo yêu cầu | không nhận thẻ | từ chối thanh toán | không thanh toán
        2.5: giám định bảo hiểm | giám định viên | căn cước gắn chip | vneid | vssid | thông tin trên thẻ
        2.0: chi trả | thanh toán | chênh lệch | bù chênh lệch | danh mục bảo hiểm | gia hạn
        2.0: hộ nghèo | cận nghèo | dưới sáu tuổi | dưới 6 tuổi | miễn phí | năm năm liên tục | nơi đăng ký
        1.5: viện phí | trên thẻ | ngày sinh trên thẻ | chấp nhận thẻ | đóng toàn bộ | trả toàn bộ | tự trả
        1.0: dịch vụ | trả tiền | thu tiền | phần trăm | tự chi trả
    """,
    C.QUY_CHE_KE_DON: """
        3.0: kê đơn | kê toa | đơn thuốc | toa thuốc | kê thuốc | ghi đơn | ghi toa | thuốc kê đơn
        3.0: không cần đơn | không có đơn | không cần toa | không có toa | đơn điện tử | biệt dược
        3.0: tên hoạt chất | hoạt chất | quy chế kê đơn | chỉ định mua | thuốc tương đương
        2.0: bắt mua
        2.5: liều dùng | liều lượng | cách dùng | cách uống | thuốc gây nghiện | thuốc hướng thần
        2.5: thực phẩm chức năng | thuốc bổ | quá nhiều thuốc | kê quá | kê nhiều | quá số ngày
        2.0: tẩy xóa | viết tay | chữ viết | không đọc được | tên thương mại | biệt dược ngoại
        2.0: nhà thuốc riêng | nhà thuốc tư | quầy thuốc | nhà thuốc của | ngoài danh mục
        1.5: kháng sinh | bán thuốc | nhà thuốc | hiệu thuốc | sai tên | tên người bệnh | chữ ký
        1.0: đắt tiền | thuốc đắt | hướng dẫn sử dụng | ghi rõ | người quen | tái khám | số ngày
    """,
    C.KHAC: """
        3.0: nhà vệ sinh | căng tin | canteen | bãi xe | giữ xe | gửi xe | trông xe | cơ sở vật chất
        3.0: cảm ơn | cám ơn | khen ngợi | gửi lời cảm ơn | tuyển dụng | xin việc | an toàn thực phẩm
        2.5: thang máy | máy lạnh | điều hòa | quạt máy | không có quạt | quạt trần | ghế ngồi | ghế chờ
        2.5: vệ sinh | mất vệ sinh | bẩn thỉu | dơ bẩn | hôi thối | bốc mùi | mùi hôi | rác thải | đổ rác
        2.5: xuống cấp | hư hỏng | mất trộm | bị trộm | cò mồi | quảng cáo | ngộ độc thực phẩm | khuôn viên
        2.0: đồ ăn | suất ăn | thức ăn | nước uống | mất điện | cây xanh | nhiều muỗi | chuột | bị hỏng
        2.0: cho tôi hỏi | xin hỏi | muốn hỏi | hỏi thông tin | hỏi địa chỉ | thẩm mỹ | an ninh | máy hỏng
        2.0: hỏng hóc | hỏng cả
        2.0: không ai nghe máy | không ai bắt máy | không ai nghe | không liên lạc được | gọi không được
        1.5: sửa chữa | rác | nóng nực | chật chội | giường bệnh | chăn màn | thu phí | tuyển | tư vấn
        1.0: đường dây nóng | góp ý | kiến nghị | không có nước | giá niêm yết | mất nước
    """,
    C.KHONG_DUNG_THAM_QUYEN: """
        3.0: đất đai | tranh chấp đất | lấn chiếm đất | lấn chiếm | mảnh đất | thửa đất | quyền sử dụng đất
        3.0: làm sổ đỏ | cấp sổ đỏ | sổ hồng | giải phóng mặt bằng | đền bù đất | xây dựng trái phép
        3.0: xây trái phép | bảo hiểm nhân thọ | bảo hiểm xe | bảo hiểm xe máy
        3.0: điện lực | cắt điện | tiền điện | hóa đơn điện | giá điện | cảnh sát giao thông | csgt
        3.0: phạt nguội
        3.0: bảo hiểm xã hội | bhxh | lương hưu | hưu trí | bảo hiểm thất nghiệp | trợ cấp thất nghiệp
        3.0: nợ lương | chậm lương | trả lương | tiền lương | học phí | học thêm | karaoke | sổ bảo hiểm
        3.0: chốt sổ | chế độ thai sản | chế độ ốm đau | chế độ hưu | đăng kiểm | bằng lái | hộ khẩu | hộ tịch
        2.5: hàng xóm | tranh chấp | trường học | nhà trường | giáo viên | sách giáo khoa | tiền nước
        2.5: cấp nước | cắt nước | công an | lừa đảo | giao thông | tai nạn giao thông | vỉa hè | sụt lún
        2.5: ổ gà | đèn đường | tiếng ồn | ồn ào | khai sinh | khai tử | ủy ban | ubnd | nhà trọ | chủ nhà
        2.5: ngân hàng | tín dụng | vay tiền | thuế | bạo lực gia đình | ly hôn | thừa kế | chung cư
        2.0: công nhân | người lao động | doanh nghiệp | chính quyền | trợ cấp | sổ đỏ | bị phạt | xử phạt
        2.0: xe tải | rơi vãi | đường sá | điện nước | nhà mạng | trộm cắp | phạt tiền
        1.5: công ty | ô nhiễm | môi trường | đền bù
        1.0: lừa | bụi | xây nhà | chó thả rông | đường vào
    """,
}

# Ordinary phrases that sound like lexicon phrases under the recogniser key ("hết hạn" ~ "hết hàng",
# final ng/n). They carry no weight; as exact matches they outrank the weaker phonetic reading of the
# same words (PhraseIndex keeps the better match of a span).
_NEUTRAL = "hết hạn | hạn sử dụng | còn hạn | quá hạn | hết hàn | đúng hạn"

# Health-service words. Their presence makes an out-of-jurisdiction reading less likely ("bệnh viện thu
# phí gửi xe" is about a hospital, so khác, not forwarded), without forbidding it.
_HEALTH_CONTEXT = (
    "bệnh viện | bác sĩ | bác sỹ | bs | y tá | điều dưỡng | hộ lý | bệnh nhân | người bệnh | trạm y tế"
    " | trung tâm y tế | phòng khám | khám bệnh | khoa | thuốc | tiêm | y tế | cấp cứu | nằm viện | sở y tế"
    " | nhập viện | trạm xá | xét nghiệm"
)
_HEALTH_DAMPING = 0.7  # per health word, at most twice: two mentions make forwarding half as likely

# Explicit denial ("không bị nhiễm trùng", "không phải xếp hàng") removes a phrase's evidence. Plain
# "không X" does not: in complaints it usually *is* the complaint ("không thanh toán", "không cấp thuốc").
_DENIAL_HEADS = frozenset({"khong", "chua", "chang", "cha", "ko"})
_DENIAL_LINKS = frozenset({"bi", "he", "phai"})

_MIN_EVIDENCE = 1.5  # below this the text says too little: fall back to "khác"
_PRIOR = 0.75  # pseudo-score of "something else", so one clue alone never reaches full share
_HALF_EVIDENCE = 1.5  # score at which the evidence factor reaches 1/2

# Ties go to the more specific, more actionable category.
_TIE_ORDER = (
    C.CHUYEN_MON,
    C.THIEU_THUOC,
    C.QUY_CHE_KE_DON,
    C.BHYT,
    C.QUY_TAC_UNG_XU,
    C.QUY_TRINH_KHAM_BENH,
    C.KHONG_DUNG_THAM_QUYEN,
    C.KHAC,
)


# Shortage is said in endless word orders ("hết que thử", "thuốc thì không có đủ", "vắc xin đã hết"), so
# besides the fixed phrases above, a lack word near a supply word counts as one piece of shortage evidence.
_LACK_WORDS = "hết | thiếu | không có | không còn | không đủ | không có đủ | chưa có | khan hiếm | cạn | đứt"
_SUPPLY_WORDS = (
    "thuốc | vắc xin | vaccine | vật tư | vtyt | que thử | găng tay | bông băng | gạc | kim tiêm | bơm tiêm"
    " | dịch truyền | insulin | oxy | huyết thanh | hóa chất | sinh phẩm | dây truyền | ống thông | băng"
)
# "hết hạn" (expired), "hết tiền" / "hết 500 nghìn" (spent) are not shortages.
_LACK_BLOCKERS = frozenset({"han", "tien", "gio", "ca", "roi"})
_LACK_WEIGHT = 2.5
_LACK_BEFORE_GAP = 2  # "hết [sạch] [cả] thuốc"
_LACK_AFTER_GAP = 3  # "thuốc [ở đây] [đã] hết"


Tokens = tuple[str, ...]


def _parse_lexicon(spec: Mapping[SuggestionCode, str]) -> dict[Tokens, dict[SuggestionCode, float]]:
    """Weights keyed by folded tokens: "cảm ơn" and "cám ơn" are one entry, as the matcher sees them."""
    weights: dict[Tokens, dict[SuggestionCode, float]] = {}
    for code, block in spec.items():
        for raw in block.strip().splitlines():
            weight_text, _, phrases = raw.strip().partition(":")
            weight = float(weight_text)
            for label in _labels(phrases):
                per_code = weights.setdefault(tokenize(label), {})
                # A phrase listed twice for one category keeps its larger weight: no silent stacking.
                per_code[code] = max(per_code.get(code, 0.0), weight)
    return weights


def _labels(spec: str) -> list[str]:
    return [label.strip() for label in spec.split("|") if label.strip()]


_WEIGHTS = _parse_lexicon(_LEXICON_TEXT)
_CONTEXT = frozenset(tokenize(label) for label in _labels(_HEALTH_CONTEXT))
_LACK = frozenset(tokenize(label) for label in _labels(_LACK_WORDS))
_SUPPLY = frozenset(tokenize(label) for label in _labels(_SUPPLY_WORDS))
_LEXICON_LABELS = [
    label
    for block in _LEXICON_TEXT.values()
    for line in block.splitlines()
    for label in _labels(line.partition(":")[2])
]
_INDEX = PhraseIndex([*_LEXICON_LABELS, *_labels(_HEALTH_CONTEXT), *_labels(_NEUTRAL)])
# Separate index: these short words must not dominate (and so hide) the longer lexicon phrases.
_SHORTAGE_INDEX = PhraseIndex([*_labels(_LACK_WORDS), *_labels(_SUPPLY_WORDS)])


def lexicon() -> dict[str, dict[str, float]]:
    """A copy of the lexicon, folded phrase -> {code: weight}: for review tools and tests."""
    return {" ".join(tokens): {str(c): w for c, w in per.items()} for tokens, per in _WEIGHTS.items()}


def _shortage(text: str) -> tuple[str, int] | None:
    """("<lack> … <supply>", token position) for the first lack word near a supply word, else None."""
    tokens, found = _SHORTAGE_INDEX.find_text(text)
    lacks = [m for m in found if m.phrase.tokens in _LACK]
    supplies = [m for m in found if m.phrase.tokens in _SUPPLY]
    for lack in lacks:
        blocked = lack.end < len(tokens) and tokens[lack.end] in _LACK_BLOCKERS
        if blocked or _denied(tokens, lack.start):
            continue
        for supply in supplies:
            before = 0 <= supply.start - lack.end <= _LACK_BEFORE_GAP
            after = 0 <= lack.start - supply.end <= _LACK_AFTER_GAP
            if before or after:
                return f"{lack.phrase.label} … {supply.phrase.label}", min(lack.start, supply.start)
    return None


def _denied(tokens: tuple[str, ...], start: int) -> bool:
    """ "không bị X", "chưa hề X", "không phải X": the speaker says X did not happen / is not the issue."""
    return start >= 2 and tokens[start - 1] in _DENIAL_LINKS and tokens[start - 2] in _DENIAL_HEADS


def suggest_category(text: str) -> CategorySuggestion:
    """Best-guess code for a complaint text, with a confidence and the evidence behind it."""
    tokens, matches = _INDEX.find_text(text)
    scores = dict.fromkeys(SuggestionCode, 0.0)
    support: dict[SuggestionCode, dict[str, tuple[int, float]]] = {c: {} for c in SuggestionCode}
    health_mentions = 0
    for m in matches:
        label = m.phrase.label
        if m.phrase.tokens in _CONTEXT:
            health_mentions += 1
        if m.phrase.tokens not in _WEIGHTS:
            continue
        if _denied(tokens, m.start):
            continue
        for code, weight in _WEIGHTS[m.phrase.tokens].items():
            # The same phrase said twice is one piece of evidence, at its best match quality.
            previous = support[code].get(label)
            value = weight * m.quality
            if previous is None or previous[1] < value:
                support[code][label] = (m.start, value)
    shortage = _shortage(text)
    if shortage is not None:
        label, position = shortage
        support[C.THIEU_THUOC][label] = (position, _LACK_WEIGHT)
    for code, found in support.items():
        scores[code] = sum(value for _, value in found.values())
    scores[C.KHONG_DUNG_THAM_QUYEN] *= _HEALTH_DAMPING ** min(health_mentions, 2)

    best = min(SuggestionCode, key=lambda c: (-scores[c], _TIE_ORDER.index(c)))
    top = scores[best]
    rounded = {str(c): round(s, 3) for c, s in scores.items()}
    if top < _MIN_EVIDENCE:
        # Thin evidence: "khác" with a confidence that shrinks as a real category gets closer.
        matched = tuple(sorted(support[C.KHAC], key=lambda k: support[C.KHAC][k][0]))
        confidence = 0.25 * (1.0 - top / _MIN_EVIDENCE) + 0.05
        return CategorySuggestion(C.KHAC, round(confidence, 3), rounded, matched)

    share = top / (sum(scores.values()) + _PRIOR)
    evidence = top / (top + _HALF_EVIDENCE)
    confidence = share * math.sqrt(evidence)
    matched = tuple(sorted(support[best], key=lambda k: support[best][k][0]))
    return CategorySuggestion(best, round(min(max(confidence, 0.0), 1.0), 3), rounded, matched)
