"""Vietnamese text normalisation: Unicode forms, diacritics, tokens, search keys, recogniser-error keys.

Complaint text reaches us from three sources that disagree about accents: operators typing with or without
Telex/VNI, callers' SMS without accents, and a speech recogniser that gets tones wrong. Everything that
compares Vietnamese text (search, classification, incident flags) therefore works on a *folded* form:
compatibility-decomposed, diacritics dropped, đ→d, lower-case, punctuation collapsed. Display text is
kept as NFC (`clean`), never folded.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum

# đ/Đ are base letters in Unicode, not d + a mark, so NFD leaves them alone. Ð/ð (Icelandic eth) and Ɖ/ɖ
# look the same and turn up from some keyboards and OCR, so they fold to d as well.
_NON_DECOMPOSING = str.maketrans({"đ": "d", "Đ": "D", "ð": "d", "Ð": "D", "ɖ": "d", "Ɖ": "D"})
# Zero-width characters and the BOM come with copy-paste from Word/Zalo and split words invisibly.
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_SPACES = re.compile(r"\s+")
# After folding every word is [a-z0-9]; anything else (punctuation, symbols, other scripts' marks) separates.
_TOKEN = re.compile(r"[^\W_]+")


def nfc(text: str) -> str:
    """Composed form: what we store and show. Legacy VNI/Windows-1258 text arrives with combining tones."""
    return unicodedata.normalize("NFC", text)


def nfd(text: str) -> str:
    """Decomposed form: base letter followed by its combining marks."""
    return unicodedata.normalize("NFD", text)


def clean(text: str) -> str:
    """Display-safe text: NFC, invisible characters removed, whitespace runs collapsed, ends trimmed.

    Keeps accents, case and punctuation, so it is safe for what a person will read back.
    """
    return _SPACES.sub(" ", _INVISIBLE.sub("", nfc(text))).strip()


def strip_diacritics(text: str) -> str:
    """Remove every Vietnamese diacritic, keep case: "Đường dây nóng" -> "Duong day nong".

    Old-style ("hoà") and new-style ("hòa") tone placement both fold to the same letters, so this also
    erases the tone-placement disagreement between keyboards.
    """
    decomposed = unicodedata.normalize("NFKD", text.translate(_NON_DECOMPOSING))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", bare)


def fold(text: str) -> str:
    """Accent- and case-insensitive form, punctuation kept: "Thiếu THUỐC!" -> "thieu thuoc!"."""
    return strip_diacritics(_INVISIBLE.sub("", text)).casefold()


def tokenize(text: str) -> tuple[str, ...]:
    """Folded word tokens; any punctuation or whitespace separates: "vắc-xin, BHYT" -> (vac, xin, bhyt).

    Words run together ("thiếuthuốc", "baohiem", a recogniser's "viênxô") are split back into syllables
    (`split_merged`), so the tokens are the same however the words were spaced.
    """
    out: list[str] = []
    for token in _TOKEN.findall(fold(text)):
        out.extend(split_merged(token))
    return tuple(out)


# One folded Vietnamese syllable: optional initial consonant, a vowel nucleus (with glides), optional
# final consonant. Anything longer that does not fit is two or more syllables run together, or a
# foreign word / abbreviation (bhyt, insulin, karaoke), which has no valid split and is left alone.
_SYLLABLE = re.compile(
    r"(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnprstvx])?"
    r"(?:uye|uya|uyu|ieu|yeu|oai|oay|oeo|uay|uoi|uou|uya|ai|ao|au|ay|eo|eu|ia|ie|iu|oa|oe|oi|oo|ua|ue|ui"
    r"|uo|uu|uy|ye|a|e|i|o|u|y)"
    r"(?:ch|ng|nh|[cmnpt])?"
)
_MAX_MERGED = 3  # syllables; a recogniser rarely runs more together, and the search stays tiny
# Frequent syllables (folded), to choose between equally valid splits: "rangoai" is "ra ngoai", not
# "ran goai"; "anuong" is "an uong". General Vietnamese, not a domain lexicon.
_COMMON_SYLLABLE_TEXT = """
    a ai an anh ao ba bac bai ban bang bao bay ben benh bi biet bo bon bong bu buoi ca cac cach cai cam
    can cang cao cap cau chi chinh cho choi chon chu chua chuan chung chuyen co con cong cu cua cuoc cung
    cuu da dai dan dang danh dao dat dau day de den deu di dia dich dien dieu dinh do doc doi don dong du
    dua duc dung duoc duong dut gan gap gi gia giai giam gio giup goi gui hai hang hanh hay hen het hieu
    hinh ho hoa hoc hoi hom hon hop huong khac kham khi khoa khoe khong khu ket kia kip la lai lam lan
    lau le len lien linh lo loai loi long luc luon luong ma mai mang mat mau may me minh moi mon mot mua
    muc mui muon nam nao nay nen ngay nghe nghi nghiem ngoai ngu nguoi nha nhan nhanh nhat nhau nhe nhieu
    nhin nhu nhung no noi nong nua nuoc o ong phai phan phat phi phong phu qua quan quay quy ra rang rat
    ro roi sang sao sau se si sinh so song su sua suc tai tam tan tang tao tay te thai tham than thang
    thanh the them theo thi thiet thieu tho thoi thong thu thuoc thuong tiem tien tieng tiep tinh to toan
    toi tong tra tram tren tri trinh tro truoc truong tu tuan tuoi uong van ve vi viec vien vo voi xa xe
    xem xet xin xuat y
"""
_COMMON_SYLLABLES = frozenset(_COMMON_SYLLABLE_TEXT.split())


def is_syllable(token: str) -> bool:
    """Whether a folded token has the shape of one Vietnamese syllable ("nghieng" yes, "baohiem" no)."""
    return _SYLLABLE.fullmatch(token) is not None


def split_merged(token: str) -> list[str]:
    """Split a folded token made of run-together syllables: "thieuthuoc" -> ["thieu", "thuoc"].

    Valid syllables, numbers and tokens with no all-syllable split come back unchanged. Among splits,
    prefer frequent syllables ("rangoai" is "ra ngoai"), then parts that start with a consonant (most
    Vietnamese syllables do: "metoi" is "me toi", not "met oi"), then a longer first part.
    """
    if len(token) < 4 or not token.isalpha() or not token.isascii() or is_syllable(token):
        return [token]
    best = _best_split(token, _MAX_MERGED)
    return best if best is not None else [token]


def _best_split(token: str, parts: int) -> list[str] | None:
    if is_syllable(token):
        return [token]
    if parts < 2:
        return None
    candidates: list[tuple[tuple[int, int, int], list[str]]] = []
    for cut in range(len(token) - 1, 0, -1):
        head, tail = token[:cut], token[cut:]
        if not is_syllable(head):
            continue
        rest = _best_split(tail, parts - 1)
        if rest is None:
            continue
        split = [head, *rest]
        rare = sum(1 for part in split if part not in _COMMON_SYLLABLES)
        vowel_starts = sum(1 for part in rest if part[0] in "aeiouy")
        candidates.append(((rare, vowel_starts, -cut), split))
    return min(candidates, key=lambda c: c[0])[1] if candidates else None


def search_key(text: str) -> str:
    """A string key for accent-insensitive search and de-duplication: tokens joined by single spaces."""
    return " ".join(tokenize(text))


def contains_phrase(text: str, phrase: str) -> bool:
    """Whether `phrase` occurs in `text` as whole words, ignoring accents, case and punctuation.

    "thieu thuoc" matches "Trạm hết, THIẾU thuốc." but "an" does not match "bạn".
    """
    needle = search_key(phrase)
    if not needle:
        return False
    return f" {needle} " in f" {search_key(text)} "


# --- recogniser-error keys ---------------------------------------------------------------------------
# A Vietnamese recogniser (or a caller typing by ear) confuses sounds that regional accents merge:
# s/x, ch/tr, d/gi/r/v, l/n (northern), final c/t and n/ng/nh (southern), i/y. Tones are already gone
# after folding. The phonetic key merges exactly those pairs, so "sếp hàng" and "xếp hàng", or "chợ cấp"
# and "trợ cấp", get the same key. It is deliberately lossy: callers use it as weaker evidence than an
# exact match.
_INITIALS: tuple[tuple[str, str], ...] = (
    ("ngh", "ng"),
    ("gh", "g"),
    ("gi", "d"),
    ("tr", "ch"),
    ("x", "s"),
    ("r", "d"),
    ("v", "d"),
    ("k", "c"),
    ("l", "n"),
)
_FINALS: tuple[tuple[str, str], ...] = (("ng", "n"), ("nh", "n"), ("ch", "t"), ("c", "t"))
_CONSONANT_START = re.compile(r"^(ngh|ng|nh|gh|gi|ch|tr|kh|ph|th|qu|[bcdfghjklmnpqrstvwxz])")


def phonetic_key(token: str) -> str:
    """Key of one folded token under common recogniser/accent confusions: "xep" and "sep" -> "sep"."""
    if not token.isalpha():
        return token
    head = ""
    match = _CONSONANT_START.match(token)
    if match:
        head = match.group(1)
        # "gi" before a consonant or alone is the vowel i after g ("gì", "gìn"), not the d-like initial.
        if head == "gi" and (len(token) == 2 or token[2] not in "aeiouy"):
            head = "g"
    rest = token[len(head) :]
    for old, new in _INITIALS:
        if head == old:
            head = new
            break
    for old, new in _FINALS:
        if rest.endswith(old) and len(rest) > len(old):
            rest = rest[: -len(old)] + new
            break
    return head + rest.replace("y", "i")


def phonetic_keys(tokens: Iterable[str]) -> tuple[str, ...]:
    return tuple(phonetic_key(t) for t in tokens)


def within_one_edit(a: str, b: str) -> bool:
    """Levenshtein distance of at most 1 (one insertion, deletion or substitution), in O(len)."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la > lb:
        a, b, la, lb = b, a, lb, la
    i = 0
    while i < la and a[i] == b[i]:
        i += 1
    if la == lb:
        return a[i + 1 :] == b[i + 1 :]
    return a[i:] == b[i + 1 :]


# --- phrase matching ---------------------------------------------------------------------------------
class MatchKind(Enum):
    """How a phrase was found; callers weigh weaker kinds less (see `MATCH_QUALITY`)."""

    EXACT = "exact"  # same folded tokens
    JOINED = "joined"  # same letters, different word split: "vacxin" / "vắc xin", "bao hiem" / "baohiem"
    PHONETIC = "phonetic"  # same recogniser key: "sếp hàng" / "xếp hàng"
    FUZZY = "fuzzy"  # one token of >= 6 letters off by one edit: "insulin" / "insullin"


# Not probabilities: relative trust, so one misheard phrase cannot outvote a clean one.
MATCH_QUALITY: dict[MatchKind, float] = {
    MatchKind.EXACT: 1.0,
    MatchKind.JOINED: 0.95,
    MatchKind.PHONETIC: 0.8,
    MatchKind.FUZZY: 0.7,
}
FUZZY_MIN_LEN = 6  # shorter Vietnamese syllables are one edit from too many other real words
# Folding merges real words (đòi/đôi, tuyển/tuyến, quát/quạt, bẩn/bán). When the text *has* accents and
# they disagree with the phrase's, the match is probably the other word, so it counts for less; not for
# nothing, because recognisers do get tones wrong. Text without accents is never penalised.
ACCENT_MISMATCH_FACTOR = 0.5

_TONE_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323")  # huyền, sắc, ngã, hỏi, nặng


def accent_key(word: str) -> str:
    """A comparison key for a word's full spelling: lower-cased, tone mark moved to the end, so "hoà" and
    "hòa" (old and new tone placement) compare equal while "đòi" and "đôi" do not. Not display text."""
    decomposed = unicodedata.normalize("NFD", word.casefold())
    tones = [c for c in decomposed if c in _TONE_MARKS]
    letters = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in _TONE_MARKS))
    return letters + "".join(tones[:1])


def _marks(word: str) -> str:
    """The diacritics of a word, without its letters: "xếp" and "sếp" -> the same, "đôi"/"vòi" differ."""
    return "".join(sorted(c for c in unicodedata.normalize("NFD", word) if unicodedata.combining(c)))


def fold_with_offsets(text: str) -> tuple[str, list[int]]:
    """`fold(text)` and, for each folded character, the index of the original character it came from.

    Folding character by character keeps offsets exact even for decomposed (NFD) input, where a
    combining mark folds to nothing.
    """
    chars: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        for f in fold(ch):
            chars.append(f)
            origin.append(i)
    return "".join(chars), origin


def tokens_with_accents(text: str) -> tuple[tuple[str, ...], tuple[str | None, ...]]:
    """`tokenize(text)` and, aligned with it, each token's `accent_key` as written (None where a
    run-together word was split, since its accents cannot be apportioned)."""
    folded, origin = fold_with_offsets(_INVISIBLE.sub("", text))
    raw_text = _INVISIBLE.sub("", text)
    tokens: list[str] = []
    accents: list[str | None] = []
    for m in _TOKEN.finditer(folded):
        parts = split_merged(m.group())
        tokens.extend(parts)
        if len(parts) == 1:
            end = origin[m.end() - 1] + 1
            while end < len(raw_text) and unicodedata.combining(raw_text[end]):
                end += 1
            accents.append(accent_key(raw_text[origin[m.start()] : end]))
        else:
            accents.extend([None] * len(parts))
    return tuple(tokens), tuple(accents)


@dataclass(frozen=True)
class Phrase:
    """A lexicon phrase: `label` as written (for people), its folded tokens and keys (for matching)."""

    label: str
    tokens: tuple[str, ...]
    joined: str
    keys: tuple[str, ...]
    # Accepted accented spellings per token position ("cảm"/"cám" for one phrase written both ways).
    spellings: tuple[frozenset[str], ...]

    @classmethod
    def of(cls, label: str) -> Phrase:
        tokens, accents = tokens_with_accents(label)
        if not tokens:
            raise ValueError(f"empty phrase: {label!r}")
        spellings = tuple(
            frozenset() if a is None or a == t else frozenset({a})
            for t, a in zip(tokens, accents, strict=True)
        )
        return cls(label, tokens, "".join(tokens), phonetic_keys(tokens), spellings)

    def also_spelt(self, other: Phrase) -> Phrase:
        """This phrase accepting `other`'s spellings too (same folded tokens, different accents)."""
        merged = tuple(a | b for a, b in zip(self.spellings, other.spellings, strict=True))
        return Phrase(self.label, self.tokens, self.joined, self.keys, merged)

    def accents_disagree(self, window: Sequence[str], accents: Sequence[str | None]) -> bool:
        """Whether accented text contradicts this phrase's spelling at some position.

        Where the folded letters are equal the whole spelling must be one of the phrase's; where they
        differ (a phonetic or fuzzy match: "sếp" for "xếp") only the vowel and tone marks are compared.
        """
        for token, accepted, got, written in zip(self.tokens, self.spellings, window, accents, strict=True):
            if written is None or written == got or not accepted:
                continue
            if token == got:
                if written not in accepted:
                    return True
            elif _marks(written) not in {_marks(a) for a in accepted}:
                return True
        return False


@dataclass(frozen=True)
class Match:
    phrase: Phrase
    start: int  # token index in the text, inclusive
    end: int  # exclusive
    kind: MatchKind
    accent_mismatch: bool = False

    @property
    def quality(self) -> float:
        base = MATCH_QUALITY[self.kind]
        return base * ACCENT_MISMATCH_FACTOR if self.accent_mismatch else base


class PhraseIndex:
    """Finds lexicon phrases in text, tolerant to accents, word splits/merges and recogniser errors.

    Longest evidence wins: a match lying inside a longer match is dropped, so "bảo hiểm" inside
    "bảo hiểm xã hội" does not count twice, and "ngã" inside "ngã tư" can be neutralised by listing
    "ngã tư" as a phrase that carries no weight.
    """

    def __init__(self, labels: Iterable[str]) -> None:
        phrases: dict[tuple[str, ...], Phrase] = {}
        for p in map(Phrase.of, labels):
            known = phrases.get(p.tokens)
            phrases[p.tokens] = p if known is None else known.also_spelt(p)
        self._by_tokens: dict[tuple[str, ...], Phrase] = phrases
        self._by_joined: dict[str, list[Phrase]] = {}
        self._by_keys: dict[tuple[str, ...], list[Phrase]] = {}
        self._fuzzy: dict[int, list[Phrase]] = {}
        for p in phrases.values():
            self._by_joined.setdefault(p.joined, []).append(p)
            # Single-syllable keys collide with too many real words ("chợ" is "trợ" under tr/ch).
            if len(p.tokens) > 1:
                self._by_keys.setdefault(p.keys, []).append(p)
            if any(len(t) >= FUZZY_MIN_LEN for t in p.tokens):
                self._fuzzy.setdefault(len(p.tokens), []).append(p)
        self._max_len = max((len(t) for t in phrases), default=1)
        # One-word labels ("insulin", "karaoke") as written, for fuzzy matching against unsplit words:
        # after `split_merged` a misspelt loanword may split differently from the right one.
        self._words: dict[str, Phrase] = {}
        for p in phrases.values():
            word = fold(p.label).strip()
            if word.isalpha() and len(word) >= FUZZY_MIN_LEN:
                self._words[word] = p

    def find_text(self, text: str) -> tuple[tuple[str, ...], list[Match]]:
        """Tokens of `text` (as `tokenize`) and the non-dominated matches in them.

        Adds what `find` cannot see on split tokens: a one-word phrase of >= 6 letters one edit away
        from a whole written word ("insullin" for "insulin").
        """
        tokens, accents = tokens_with_accents(text)
        spans: list[tuple[str, int, int]] = []
        position = 0
        for word in _TOKEN.findall(fold(text)):
            size = len(split_merged(word))
            spans.append((word, position, position + size))
            position += size
        matches = self.find(tokens, accents)
        extra: list[Match] = []
        for word, start, end in spans:
            if len(word) < FUZZY_MIN_LEN or word in self._words:
                continue
            for target, p in self._words.items():
                if within_one_edit(word, target):
                    extra.append(Match(p, start, end, MatchKind.FUZZY))
        if extra:
            matches = _drop_dominated([*matches, *extra])
        return tokens, matches

    def find(self, tokens: Sequence[str], accents: Sequence[str | None] | None = None) -> list[Match]:
        """All non-dominated matches in `tokens` (as from `tokenize`), ordered by position.

        With `accents` (from `tokens_with_accents`), exact matches whose written accents contradict
        the phrase's are marked `accent_mismatch` and count for less.
        """
        keys = phonetic_keys(tokens)
        found: dict[tuple[str, int, int], Match] = {}

        def clash(p: Phrase, window: tuple[str, ...], i: int) -> bool:
            return accents is not None and p.accents_disagree(window, accents[i : i + len(window)])

        def add(m: Match) -> None:
            k = (m.phrase.label, m.start, m.end)
            if k not in found or found[k].quality < m.quality:
                found[k] = m

        n_tok = len(tokens)
        for i in range(n_tok):
            for size in range(1, min(self._max_len + 1, n_tok - i) + 1):
                window = tuple(tokens[i : i + size])
                exact = self._by_tokens.get(window)
                if exact is not None:
                    add(Match(exact, i, i + size, MatchKind.EXACT, clash(exact, window, i)))
                joined = "".join(window)
                if len(joined) >= 4:
                    for p in self._by_joined.get(joined, ()):
                        if len(p.tokens) != size:
                            add(Match(p, i, i + size, MatchKind.JOINED))
                for p in self._by_keys.get(keys[i : i + size], ()):
                    if p.tokens != window:
                        add(Match(p, i, i + size, MatchKind.PHONETIC, clash(p, window, i)))
                for p in self._fuzzy.get(size, ()):
                    if p.tokens != window and _fuzzy_equal(p, window, keys[i : i + size]):
                        add(Match(p, i, i + size, MatchKind.FUZZY, clash(p, window, i)))
        return _drop_dominated(list(found.values()))


def _fuzzy_equal(p: Phrase, window: tuple[str, ...], keys: tuple[str, ...]) -> bool:
    """Tokens equal (or same phonetic key) except exactly one long token within one edit."""
    edits = 0
    for want, want_key, got, got_key in zip(p.tokens, p.keys, window, keys, strict=True):
        if want == got or want_key == got_key:
            continue
        if len(want) < FUZZY_MIN_LEN or not within_one_edit(want, got):
            return False
        edits += 1
    return edits == 1


def _drop_dominated(matches: list[Match]) -> list[Match]:
    def dominated(m: Match) -> bool:
        for o in matches:
            if o is m or o.start > m.start or o.end < m.end:
                continue
            if (o.end - o.start) > (m.end - m.start) or o.quality > m.quality:
                return True
        return False

    return sorted((m for m in matches if not dominated(m)), key=lambda m: (m.start, m.end, m.phrase.label))


def preceded_by_negation(
    tokens: Sequence[str],
    start: int,
    negators: frozenset[str],
    fillers: frozenset[str] = frozenset(),
    max_fillers: int = 0,
) -> bool:
    """Whether a negator stands before `start`, with at most `max_fillers` filler words between.

    "không bị sốc phản vệ": negator "không", filler "bị". Callers choose the sets: a topic classifier
    must not treat "không được thanh toán" (a complaint about payment) as denial, an incident flag must.
    """
    j = start - 1
    skipped = 0
    while j >= 0:
        if tokens[j] in negators:
            return True
        if tokens[j] in fillers and skipped < max_fillers:
            skipped += 1
            j -= 1
            continue
        return False
    return False
