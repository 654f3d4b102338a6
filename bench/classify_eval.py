"""How well the complaint classifier and the incident flag do, on every labelled text we have.

    .venv/bin/python bench/classify_eval.py [--seed 7] [--noise 0.25] [--misses]

Datasets: the shared sample (/work/shared/data/complaints-sample.tsv, or ../shared beside the repo),
the TTS manifest texts (shared/audio/tts-vi/manifest.tsv), and our own held-out set
tests/data/complaints-extra.tsv. Each is also scored in two derived views, because real input is rarely
clean: "no accents" (every diacritic stripped, as in SMS) and "recogniser noise" (a seeded simulation of
ASR slips: s/x, tr/ch, d/gi/r, l/n, final c/t and n/ng swaps, wrong tones, merged words).

Prints per-category precision/recall/F1, accuracy and a confusion matrix per dataset and view, a
confidence-vs-accuracy table over everything, then the incident detector's precision/recall on a small
labelled list. Figures, not assertions: the tests in tests/domain hold the floors.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from callcenter.domain.classify import SuggestionCode, suggest_category  # noqa: E402
from callcenter.domain.incident import detect_incident  # noqa: E402
from callcenter.domain.text import strip_diacritics  # noqa: E402

CODES = list(SuggestionCode)
SHORT = {
    "thieu_thuoc": "thuoc",
    "quy_trinh_kham_benh": "qtrinh",
    "quy_tac_ung_xu": "ungxu",
    "chuyen_mon": "cmon",
    "bhyt": "bhyt",
    "quy_che_ke_don": "kedon",
    "khac": "khac",
    "khong_dung_tham_quyen": "ngoai",
}
Labelled = list[tuple[str, str]]  # (gold code, text)


def shared_dir() -> Path:
    for candidate in (Path("/work/shared"), REPO.parent / "shared"):
        if candidate.is_dir():
            return candidate
    raise SystemExit("shared/ not found beside the repository")


def load_tsv(path: Path, label: str = "category") -> Labelled:
    with path.open(encoding="utf-8", newline="") as f:
        return [(row[label], row["text"]) for row in csv.DictReader(f, delimiter="\t")]


# --- recogniser-noise simulation ---------------------------------------------------------------------
_TONES = ["\u0300", "\u0301", "\u0303", "\u0309", "\u0323", ""]
_INITIAL_SWAPS = [("tr", "ch"), ("ch", "tr"), ("gi", "d"), ("x", "s"), ("s", "x"), ("r", "d"), ("d", "gi")]
_INITIAL_SWAPS += [("l", "n"), ("v", "d")]
_FINAL_SWAPS = [("ng", "n"), ("c", "t"), ("t", "c"), ("n", "ng")]


def _retone(word: str, rng: random.Random) -> str:
    chars = unicodedata.normalize("NFD", word)
    marks = [i for i, c in enumerate(chars) if c in _TONES[:-1]]
    new = rng.choice(_TONES)
    if marks:
        chars = chars[: marks[0]] + new + chars[marks[0] + 1 :]
    else:
        vowels = [i for i, c in enumerate(chars) if c.lower() in "aeiouy"]
        if not vowels:
            return word
        at = vowels[-1] + 1
        while at < len(chars) and unicodedata.combining(chars[at]):
            at += 1  # after the vowel's own mark (ê, ơ...), where a tone goes
        chars = chars[:at] + new + chars[at:]
    return unicodedata.normalize("NFC", chars)


def _swap_sound(word: str, rng: random.Random) -> str:
    low = word.lower()
    if rng.random() < 0.6:
        options = [
            (a, b) for a, b in _INITIAL_SWAPS if low.startswith(a) and not low.startswith(("ng", "nh"))
        ]
        if options:
            a, b = rng.choice(options)
            return b + word[len(a) :]
    options = [(a, b) for a, b in _FINAL_SWAPS if strip_diacritics(low).endswith(a)]
    if options:
        a, b = rng.choice(options)
        return word[: -len(a)] + b
    return word


def add_recogniser_noise(text: str, rng: random.Random, rate: float) -> str:
    """A plausible ASR transcript of `text`: no punctuation, lower case, some sounds and tones wrong."""
    words = "".join(c if c.isalnum() or c.isspace() else " " for c in text.lower()).split()
    out: list[str] = []
    for word in words:
        r = rng.random()
        if r < rate / 2:
            word = _swap_sound(word, rng)
        elif r < rate:
            word = _retone(word, rng)
        if out and rng.random() < rate / 5:
            out[-1] += word  # merged with the previous word
        else:
            out.append(word)
    return " ".join(out)


# --- metrics --------------------------------------------------------------------------------------------
def evaluate(name: str, data: Labelled, show_misses: bool) -> tuple[int, int, list[tuple[float, bool]]]:
    gold_pred: list[tuple[str, str]] = []
    confidences: list[tuple[float, bool]] = []
    for gold, text in data:
        s = suggest_category(text)
        gold_pred.append((gold, s.code.value))
        confidences.append((s.confidence, s.code == gold))
        if show_misses and s.code != gold:
            print(f"   miss {SHORT[gold]:>6} -> {SHORT[s.code]:<6} {s.confidence:.2f} {s.matched} | {text}")
    correct = sum(g == p for g, p in gold_pred)
    print(f"\n== {name}: accuracy {correct}/{len(data)} = {correct / len(data):.1%}")
    print(f"   {'code':<22} {'n':>3} {'prec':>6} {'recall':>6} {'F1':>6}")
    for code in CODES:
        tp = sum(g == p == code for g, p in gold_pred)
        n_pred = sum(p == code for _, p in gold_pred)
        n_gold = sum(g == code for g, _ in gold_pred)
        if not n_gold and not n_pred:
            continue
        prec = tp / n_pred if n_pred else 0.0
        rec = tp / n_gold if n_gold else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        print(f"   {code.value:<22} {n_gold:>3} {prec:>6.2f} {rec:>6.2f} {f1:>6.2f}")
    confusion = Counter(gold_pred)
    print("   confusion (rows = label, columns = suggestion):")
    print("   " + " " * 7 + "".join(f"{SHORT[c]:>7}" for c in CODES))
    for g in CODES:
        print(f"   {SHORT[g]:>7}" + "".join(f"{confusion[(g.value, p.value)] or '.':>7}" for p in CODES))
    return correct, len(data), confidences


def calibration(confidences: Sequence[tuple[float, bool]]) -> None:
    print("\n== confidence vs accuracy (all datasets and views)")
    bins = [(0.0, 0.35), (0.35, 0.5), (0.5, 0.65), (0.65, 0.8), (0.8, 1.01)]
    for lo, hi in bins:
        inside = [ok for c, ok in confidences if lo <= c < hi]
        if inside:
            share = sum(inside) / len(inside)
            print(f"   [{lo:.2f}, {min(hi, 1.0):.2f}) n={len(inside):>4}  accuracy {share:.1%}")


# Stress set: indirect, conversational phrasing that a duty officer would still classify, mostly
# without the obvious keywords. Written AFTER the lexicon, deliberately against it, and never used to
# tune it: its figure is the honest lower bound, the other sets' figures the optimistic upper one.
INDIRECT: Labelled = [
    ("thieu_thuoc", "Mẹ tôi lên lấy thuốc tiểu đường tháng này thì khoa dược bảo đợi đấu thầu xong mới có."),
    (
        "thieu_thuoc",
        "Ở xã tôi mấy tháng rồi không tiêm được mũi nào cho cháu, cứ hẹn tuần sau rồi lại tuần sau.",
    ),
    (
        "thieu_thuoc",
        "Phòng mổ không còn chỉ khâu loại tốt, người nhà phải chạy ra cửa hàng dụng cụ y khoa mua.",
    ),
    ("thieu_thuoc", "Bệnh viện bảo chưa trúng thầu nên không phát thuốc chống đông cho bệnh nhân ngoại trú."),
    (
        "quy_trinh_kham_benh",
        "Từ lúc lấy máu đến lúc có giấy trả về mất gần năm tiếng, ai hỏi cũng bảo ngồi đấy.",
    ),
    (
        "quy_trinh_kham_benh",
        "Mỗi lần tái khám phải đi qua bốn cửa, nộp giấy chỗ này rồi lại quay về chỗ kia.",
    ),
    ("quy_trinh_kham_benh", "Tôi gọi tổng đài đặt hẹn trước nhưng đến nơi thì không có tên trong danh sách."),
    ("quy_trinh_kham_benh", "Buổi sáng người đến khám đông nghịt mà chỉ mở có hai bàn khám."),
    ("quy_tac_ung_xu", "Cô ấy nói với mẹ tôi là già rồi còn đòi hỏi gì, không muốn thì về nhà mà nằm."),
    ("quy_tac_ung_xu", "Anh kỹ thuật viên vừa chụp phim vừa cười cợt, bảo mẹ tôi nằm im đi cho nhanh."),
    ("quy_tac_ung_xu", "Phải dúi cho chị ấy hai trăm nghìn thì chị mới đẩy xe đưa bố tôi đi chụp."),
    ("quy_tac_ung_xu", "Bác sĩ bảo tôi hỏi nhiều thế thì tự đi mà chữa."),
    (
        "chuyen_mon",
        "Bố tôi đau ngực được cho uống thuốc dạ dày rồi về, tối đó vào lại viện vì nhồi máu cơ tim.",
    ),
    (
        "chuyen_mon",
        "Chụp phim xong bác sĩ bảo con tôi chỉ bong gân, ba tuần sau khám nơi khác mới biết rạn xương.",
    ),
    ("chuyen_mon", "Mổ mắt xong mắt mẹ tôi mờ hẳn, hỏi thì bác sĩ bảo do cơ địa."),
    (
        "chuyen_mon",
        "Cháu sốt năm ngày chỉ cho hạ sốt, không làm gì thêm, lên tỉnh thì đã sốt xuất huyết nặng.",
    ),
    ("bhyt", "Tôi nằm viện năm ngày, ra viện phải trả hết tiền giường vì bảo khoa đó không áp dụng thẻ."),
    ("bhyt", "Cháu tôi học lớp một, nhà trường đã mua thẻ cho cháu mà đi khám vẫn bị tính như không có thẻ."),
    (
        "bhyt",
        "Tôi đi lấy thuốc mãn tính thì quầy bảo phải đóng thêm hai mươi phần trăm, trước đây không phải.",
    ),
    ("bhyt", "Tôi chuyển hộ khẩu sang tỉnh khác, giờ đi khám ở đây không được hưởng như người địa phương."),
    (
        "quy_che_ke_don",
        "Lần nào khám bác sĩ cũng ghi cho một loạt vitamin với men tiêu hóa, gấp đôi tiền thuốc chính.",
    ),
    (
        "quy_che_ke_don",
        "Bác sĩ ghi thuốc bằng mã số, ra hiệu thuốc khác không ai hiểu, phải quay lại phòng khám mua.",
    ),
    ("quy_che_ke_don", "Đi khám viêm họng mà toa có tới sáu loại, toàn kháng sinh với thuốc bổ."),
    ("quy_che_ke_don", "Hiệu thuốc đầu ngõ bán cho tôi thuốc ngủ liều mạnh chẳng cần hỏi gì."),
    ("khac", "Điện thoại của mẹ tôi để ở tủ đầu giường bị ai lấy mất."),
    ("khac", "Xin cho tôi biết thứ bảy bệnh viện có làm việc không."),
    ("khac", "Ban đêm hành lang khu điều trị tối om, bóng đèn hỏng hết mà không ai thay."),
    ("khac", "Tôi muốn biểu dương kíp trực cấp cứu đêm qua đã cứu bố tôi."),
    ("khong_dung_tham_quyen", "Nhà bên cạnh nuôi lợn xả nước thải ra mương, cả xóm chịu mùi."),
    ("khong_dung_tham_quyen", "Xe khách nhồi nhét quá số người quy định trên tuyến quốc lộ."),
    ("khong_dung_tham_quyen", "Con tôi bị bạn cùng lớp bắt nạt, cô chủ nhiệm không xử lý."),
    ("khong_dung_tham_quyen", "Tôi mua tủ lạnh ở siêu thị bị hỏng mà cửa hàng không chịu đổi."),
]

# Incident list: (is a serious incident?, text). Written separately from the unit tests' examples.
INCIDENTS: list[tuple[bool, str]] = [
    (True, "Con tôi được tiêm nhầm mũi vắc xin của trẻ khác ở trạm y tế."),
    (True, "Điều dưỡng phát nhầm thuốc của giường bên cho bố tôi uống."),
    (True, "Mẹ tôi truyền kháng sinh xong bị sốc phản vệ phải chuyển hồi sức."),
    (True, "Bệnh nhân tử vong khi đang chờ phẫu thuật mà không ai theo dõi."),
    (True, "Sau mổ ruột thừa chụp phim mới thấy bỏ quên kim khâu trong bụng."),
    (True, "Bác sĩ mổ nhầm chân trái thay vì chân phải của ông tôi."),
    (True, "Truyền máu khác nhóm cho sản phụ, giờ đang nguy kịch."),
    (True, "Bà tôi bị té từ giường bệnh xuống sàn gãy xương đùi."),
    (True, "Vết mổ đẻ bị nhiễm trùng, chảy mủ, phải mổ lại."),
    (True, "Cháu bé sinh ra bị trao nhầm cho gia đình khác."),
    (True, "Sau khi tiêm thuốc tê ở phòng khám nha khoa cháu ngừng thở."),
    (True, "Sản phụ băng huyết sau sinh mà bệnh viện chậm xử trí."),
    (True, "me toi bi chet sau khi gay me"),
    (True, "bac si tiem sai lieu insulin cho ba toi"),
    (True, "Người bệnh nhảy lầu tự tử trong khu điều trị tâm thần."),
    (True, "Cho bệnh nhân uống quá liều thuốc an thần nên hôn mê."),
    (True, "Nhổ răng xong bị nhiễm trùng máu phải nằm hồi sức."),
    (True, "Bố tôi bị liệt nửa người sau ca mổ cột sống."),
    (True, "con tôi bị xốc phản vệ sau tiêm kháng sinh"),
    (True, "Sai sót chuyên môn làm em bé bị ngạt khi sinh."),
    (False, "Nhà thuốc trong bệnh viện bán thuốc hết hạn sử dụng."),
    (False, "Tôi chờ ba tiếng chưa được khám."),
    (False, "Bệnh viện nằm ở ngã tư nên rất khó gửi xe."),
    (False, "May là con tôi không bị sốc phản vệ sau khi tiêm."),
    (False, "Bác sĩ quát mắng mẹ tôi trước mặt mọi người."),
    (False, "Tôi đi nhầm phòng khám vì không có biển chỉ dẫn."),
    (False, "Thẻ bảo hiểm y tế của tôi bị ghi nhầm ngày sinh."),
    (False, "Hết thuốc huyết áp, phải ra ngoài mua."),
    (False, "Chưa có trường hợp nào tử vong nhưng tôi vẫn lo."),
    (False, "Nhân viên bảo vệ thu tiền giữ xe quá cao."),
    (False, "Tôi muốn hỏi lịch tiêm phòng cho trẻ."),
    (False, "Tôi để quên điện thoại ở phòng chờ, nhờ tìm giúp."),
    (False, "Bác sĩ tư vấn nguy cơ biến chứng trước khi mổ rất kỹ."),
    (False, "Đơn thuốc không ghi rõ liều dùng."),
    (False, "Chờ lấy kết quả xét nghiệm mệt chết đi được."),
    (False, "Hàng xóm xây nhà lấn chiếm đất."),
    (False, "phong benh nong qua khong co quat"),
    (False, "Bệnh viện không chấp nhận thẻ bảo hiểm y tế đúng tuyến."),
    (False, "Con tôi bị sốt, bác sĩ khám kỹ và cho thuốc đúng."),
    (False, "Tôi bị ngã xe ngoài đường, muốn hỏi bảo hiểm có trả không."),
]


def incident_eval(show_misses: bool) -> None:
    tp = fp = fn = 0
    for truth, text in INCIDENTS:
        flagged = detect_incident(text).flagged
        tp += truth and flagged
        fp += flagged and not truth
        fn += truth and not flagged
        if show_misses and flagged != truth:
            print(f"   {'false positive' if flagged else 'missed'}: {text} {detect_incident(text).reasons}")
    positives = sum(t for t, _ in INCIDENTS)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    print(f"\n== incident flag: {positives} incidents, {len(INCIDENTS) - positives} non-incidents")
    print(f"   precision {precision:.2f} ({tp}/{tp + fp})  recall {recall:.2f} ({tp}/{tp + fn})")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seed", type=int, default=7, help="seed of the recogniser-noise simulation")
    parser.add_argument("--noise", type=float, default=0.25, help="share of words the simulation garbles")
    parser.add_argument("--misses", action="store_true", help="print every misclassified text")
    args = parser.parse_args(argv)

    shared = shared_dir()
    manifest = load_tsv(shared / "audio" / "tts-vi" / "manifest.tsv")
    datasets = {
        "complaints-sample.tsv": load_tsv(shared / "data" / "complaints-sample.tsv"),
        "tts-vi manifest": manifest,
        "complaints-extra.tsv (held out)": load_tsv(REPO / "tests" / "data" / "complaints-extra.tsv"),
        "indirect phrasing (stress)": INDIRECT,
    }
    rng = random.Random(args.seed)
    views: dict[str, Callable[[str], str]] = {
        "as written": lambda t: t,
        "no accents": strip_diacritics,
        "recogniser noise": lambda t: add_recogniser_noise(t, rng, args.noise),
    }
    all_confidences: list[tuple[float, bool]] = []
    summary: list[str] = []
    for name, data in datasets.items():
        for view, transform in views.items():
            correct, total, confidences = evaluate(
                f"{name} [{view}]", [(g, transform(t)) for g, t in data], args.misses
            )
            all_confidences += confidences
            summary.append(f"   {name + ' [' + view + ']':<50} {correct:>4}/{total:<4} {correct / total:.1%}")
    calibration(all_confidences)
    incident_eval(args.misses)
    print("\n== summary (accuracy)")
    print("\n".join(summary))


if __name__ == "__main__":
    main()
