"""Merging the caller's and the officer's words into turns (pure domain code)."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callcenter.domain.turns import Speaker, TimedWord, Turn, merge_turns, render, turns_from_mix


def w(text: str, start: float, end: float | None = None) -> TimedWord:
    return TimedWord(text, start, start + 0.3 if end is None else end)


def test_a_conversation_alternates() -> None:
    caller = [w("alô", 0.5), w("bệnh", 0.9), w("viện", 1.2), w("vâng", 6.0)]
    officer = [w("tôi", 3.0), w("nghe", 3.3), w("đây", 3.6)]
    turns = merge_turns(caller, officer)
    assert [(t.speaker, t.text) for t in turns] == [
        (Speaker.CALLER, "alô bệnh viện"),
        (Speaker.OFFICER, "tôi nghe đây"),
        (Speaker.CALLER, "vâng"),
    ]
    assert (turns[0].start_s, turns[0].end_s) == (0.5, 1.5)
    assert turns[1].words[1] == w("nghe", 3.3)  # each word keeps its times: a page can seek to it


def test_a_long_silence_splits_one_speakers_speech() -> None:
    turns = merge_turns([w("một", 0.0), w("hai", 0.4), w("ba", 2.0)], [], gap_s=1.0)
    assert [t.text for t in turns] == ["một hai", "ba"]
    assert [t.text for t in merge_turns([w("một", 0.0), w("hai", 0.4), w("ba", 2.0)], [], gap_s=1.5)] == [
        "một hai ba"
    ]


def test_the_gap_is_measured_from_the_end_of_the_turn() -> None:
    long_word = w("dàiiii", 0.0, 3.0)
    assert len(merge_turns([long_word, w("tiếp", 3.5)], [])) == 1


def test_a_backchannel_over_the_callers_sentence_does_not_cut_it() -> None:
    caller = [w("tôi", 0.0), w("chờ", 0.3), w("mãi", 0.6), w("không", 0.9), w("ai", 1.2)]
    officer = [w("vâng", 0.7)]  # said over "mãi không"
    turns = merge_turns(caller, officer)
    assert [(t.speaker.value, t.text) for t in turns] == [
        ("caller", "tôi chờ mãi không ai"),
        ("officer", "vâng"),
    ]
    assert turns[1].start_s < turns[0].end_s  # the overlap is kept in the times


def test_an_answer_in_a_pause_is_a_hand_over() -> None:
    caller = [w("alô", 0.0), w("có", 1.1), w("ai", 1.4)]  # a 0.8 s pause: shorter than gap_s
    officer = [w("dạ", 0.45, 0.75)]  # wholly inside the caller's pause
    turns = merge_turns(caller, officer)
    assert [(t.speaker.value, t.text) for t in turns] == [
        ("caller", "alô"),
        ("officer", "dạ"),
        ("caller", "có ai"),
    ]


def test_crosstalk_keeps_each_side_whole() -> None:
    # Word times as Whisper gave them on the real scenario-1 legs: both sides at once, word by word.
    caller = [w("Sản", 6.6, 7.0), w("áng", 7.0, 7.2), w("bền", 7.2, 7.4), w("viện", 7.4, 7.7)]
    officer = [w("nghe", 6.7, 7.1), w("anh", 7.1, 7.3), w("chình", 7.3, 7.6)]
    turns = merge_turns(caller, officer)
    assert [(t.speaker.value, t.text) for t in turns] == [
        ("caller", "Sản áng bền viện"),
        ("officer", "nghe anh chình"),
    ]


def test_simultaneous_starts_put_the_caller_first() -> None:
    turns = merge_turns([w("a", 1.0)], [w("b", 1.0)])
    assert [t.speaker for t in turns] == [Speaker.CALLER, Speaker.OFFICER]


def test_unsorted_input_is_ordered() -> None:
    turns = merge_turns([w("hai", 0.5), w("một", 0.1)], [])
    assert turns[0].text == "một hai"


def test_nothing_said() -> None:
    assert merge_turns([], []) == []
    assert turns_from_mix([]) == []


def test_mix_turns_have_no_speaker() -> None:
    turns = turns_from_mix([w("a", 0.0), w("b", 0.4), w("c", 5.0)])
    assert [(t.speaker, t.text) for t in turns] == [(Speaker.UNKNOWN, "a b"), (Speaker.UNKNOWN, "c")]


def test_render() -> None:
    turns = merge_turns([w("alô", 0.5)], [w("vâng", 2.0)])
    assert render(turns) == "[0.5 caller] alô\n[2.0 officer] vâng"


@pytest.mark.parametrize(
    ("start", "end"), [(-0.1, 1.0), (2.0, 1.0), (float("nan"), 1.0), (0.0, float("inf"))]
)
def test_impossible_word_times_are_refused(start: float, end: float) -> None:
    with pytest.raises(ValueError, match="times"):
        TimedWord("x", start, end)


def test_a_negative_gap_is_refused() -> None:
    with pytest.raises(ValueError, match="gap_s"):
        merge_turns([w("a", 0.0)], [], gap_s=-1)


# ------------------------------------------------------------------------------------- properties

times = st.floats(min_value=0, max_value=600, allow_nan=False, allow_infinity=False)
words = st.builds(
    lambda text, start, length: TimedWord(text, start, start + length),
    st.text(alphabet="aăâbcdđeêghiklmnoôơpqrstuưvxy", min_size=1, max_size=6),
    times,
    st.floats(min_value=0, max_value=3, allow_nan=False),
)
word_lists = st.lists(words, max_size=40)
gaps = st.floats(min_value=0, max_value=5, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(caller=word_lists, officer=word_lists, gap=gaps)
def test_every_word_appears_exactly_once_with_its_speaker(
    caller: list[TimedWord], officer: list[TimedWord], gap: float
) -> None:
    turns = merge_turns(caller, officer, gap_s=gap)
    said = [(t.speaker, id(word)) for t in turns for word in t.words]
    expected = [(Speaker.CALLER, id(x)) for x in caller] + [(Speaker.OFFICER, id(x)) for x in officer]
    assert sorted(said) == sorted(expected)


@settings(max_examples=300, deadline=None)
@given(caller=word_lists, officer=word_lists, gap=gaps)
def test_turns_are_in_time_order_and_words_in_each_too(
    caller: list[TimedWord], officer: list[TimedWord], gap: float
) -> None:
    turns = merge_turns(caller, officer, gap_s=gap)
    assert [t.start_s for t in turns] == sorted(t.start_s for t in turns)
    for turn in turns:
        assert [x.start_s for x in turn.words] == sorted(x.start_s for x in turn.words)
        assert turn.start_s == turn.words[0].start_s
        assert turn.end_s == max(x.end_s for x in turn.words) >= turn.start_s
        assert turn.text == " ".join(x.text for x in turn.words)
    for turn in turns:
        # Within a turn: no pause longer than gap, and no word of the other side inside a pause.
        other = officer if turn.speaker is Speaker.CALLER else caller
        end = turn.words[0].end_s
        for word in turn.words[1:]:
            assert word.start_s - end <= gap
            assert not any(end <= o.start_s and o.end_s <= word.start_s for o in other)
            end = max(end, word.end_s)


@settings(max_examples=300, deadline=None)
@given(caller=word_lists, officer=word_lists, gap=gaps)
def test_one_sides_consecutive_turns_are_split_for_a_reason(
    caller: list[TimedWord], officer: list[TimedWord], gap: float
) -> None:
    turns = merge_turns(caller, officer, gap_s=gap)
    for speaker, other in ((Speaker.CALLER, officer), (Speaker.OFFICER, caller)):
        own = [t for t in turns if t.speaker is speaker]
        for before, after in itertools.pairwise(own):
            assert after.start_s >= before.start_s
            pause = (before.end_s, after.start_s)
            handed_over = any(pause[0] <= o.start_s and o.end_s <= pause[1] for o in other)
            assert pause[1] - pause[0] > gap or handed_over


@settings(max_examples=200, deadline=None)
@given(caller=word_lists, officer=word_lists, gap=gaps)
def test_a_turn_has_one_speaker(caller: list[TimedWord], officer: list[TimedWord], gap: float) -> None:
    caller_ids, officer_ids = {id(x) for x in caller}, {id(x) for x in officer}
    for turn in merge_turns(caller, officer, gap_s=gap):
        assert isinstance(turn, Turn) and turn.words
        side = caller_ids if turn.speaker is Speaker.CALLER else officer_ids
        assert all(id(x) in side for x in turn.words)


@settings(max_examples=100, deadline=None)
@given(mixed=word_lists, gap=gaps)
def test_mix_keeps_every_word(mixed: list[TimedWord], gap: float) -> None:
    turns = turns_from_mix(mixed, gap_s=gap)
    assert sorted(id(x) for t in turns for x in t.words) == sorted(id(x) for x in mixed)
    assert all(t.speaker is Speaker.UNKNOWN for t in turns)
