"""The report's inline SVG charts: well-formed, proportional, labelled with their numbers, escaped, and an
empty-state sentence (no division by zero) when there is nothing to draw."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from callcenter.web.charts import (
    EMPTY_TEXT,
    Series,
    bar_length,
    columns,
    horizontal_bars,
    number_vi,
)

SVG = "{http://www.w3.org/2000/svg}"


def _parse(markup: str) -> ET.Element:
    return ET.fromstring(str(markup))  # well-formed XML, or this raises


def _bars(figure: ET.Element) -> list[ET.Element]:
    return [r for r in figure.iter(f"{SVG}rect") if r.get("class") == "bar"]


def _texts(figure: ET.Element) -> list[str]:
    return [t.text or "" for t in figure.iter(f"{SVG}text")]


def test_horizontal_bars_are_proportional_and_carry_their_values() -> None:
    figure = _parse(
        horizontal_bars(
            "c",
            "Theo phân loại",
            ["Thiếu thuốc", "BHYT", "Khác"],
            [Series("Số", [10, 5, 0])],
            value_label="Số PA",
        )
    )
    widths = [float(r.get("width", "")) for r in _bars(figure)]
    assert widths[0] > 0 and widths[1] == pytest.approx(widths[0] / 2) and widths[2] == 0
    texts = _texts(figure)
    assert {"Thiếu thuốc", "BHYT", "Khác", "10", "5", "0", "Số PA"} <= set(texts)
    assert figure.tag == "figure" and figure.findtext("figcaption") == "Theo phân loại"
    svg = figure.find(f"{SVG}svg")
    assert svg is not None and svg.get("role") == "img"
    assert svg.findtext(f"{SVG}title") == "Theo phân loại"
    assert svg.findtext(f"{SVG}desc") == "Số PA. Thiếu thuốc: 10; BHYT: 5; Khác: 0."
    assert "style=" not in str(horizontal_bars("c", "t", ["a"], [Series("s", [1])], value_label="v"))


def test_two_series_share_one_scale_and_have_a_legend() -> None:
    figure = _parse(
        horizontal_bars(
            "f",
            "Các cơ sở",
            ["BV A", "BV B"],
            [Series("Tiếp nhận", [8, 4]), Series("Giải quyết", [2, 0], "#e69138")],
            value_label="Số phản ánh",
        )
    )
    widths = [float(r.get("width", "")) for r in _bars(figure)]  # A received, A resolved, B received, …
    assert widths[1] == pytest.approx(widths[0] / 4) and widths[2] == pytest.approx(widths[0] / 2)
    assert widths[3] == 0
    assert {"Tiếp nhận", "Giải quyết"} <= set(_texts(figure))
    desc = figure.find(f"{SVG}svg/{SVG}desc")
    assert desc is not None and "BV A: Tiếp nhận 8, Giải quyết 2" in (desc.text or "")


def test_columns_are_proportional_with_a_labelled_scale() -> None:
    figure = _parse(
        columns(
            "m", "Theo tháng", ["10/2026", "11/2026", "12/2026"], [40, 20, 0], x_label="Tháng", y_label="Số"
        )
    )
    heights = [float(r.get("height", "")) for r in _bars(figure)]
    assert heights[0] > 0 and heights[1] == pytest.approx(heights[0] / 2) and heights[2] == 0
    texts = _texts(figure)
    assert {"10/2026", "11/2026", "12/2026", "40", "20", "Tháng", "Số"} <= set(texts)
    assert "0" in texts  # the scale starts at zero


def test_many_months_get_slanted_labels() -> None:
    labels = [f"{m:02d}/2026" for m in range(1, 13)] + ["01/2027"]
    figure = _parse(columns("m", "Theo tháng", labels, list(range(13)), x_label="Tháng", y_label="Số"))
    assert sum(1 for t in figure.iter(f"{SVG}text") if "rotate" in (t.get("transform") or "")) == 13
    short = _parse(
        columns("m", "Theo tháng", [f"T{m}" for m in range(1, 13)], [1] * 12, x_label="x", y_label="y")
    )
    assert not any(t.get("transform") for t in short.iter(f"{SVG}text"))  # "T1" … "T12" fit side by side


@pytest.mark.parametrize("values", [[], [0, 0, 0]])
def test_nothing_to_draw_is_a_sentence_not_a_division_by_zero(values: list[int]) -> None:
    labels = [f"L{i}" for i in range(len(values))]
    for markup in (
        horizontal_bars("e", "Trống", labels, [Series("s", values)], value_label="v"),
        columns("e", "Trống", labels, values, x_label="x", y_label="y"),
    ):
        figure = _parse(markup)
        assert figure.findtext("figcaption") == "Trống"
        assert figure.findtext("p") == EMPTY_TEXT
        assert figure.find(f"{SVG}svg") is None
    assert bar_length(5, 0, 100) == 0 and bar_length(0, 0, 100) == 0


def test_labels_are_escaped() -> None:
    evil = '<script>alert("x")</script> Bệnh viện A & B'
    for markup in (
        horizontal_bars("x", evil, [evil], [Series(evil, [3]), Series("s", [1])], value_label=evil),
        columns("x", evil, [evil], [3], x_label=evil, y_label=evil),
    ):
        text = str(markup)
        assert "<script>" not in text
        assert "&lt;script&gt;" in text and "Bệnh viện A &amp; B" in text
        figure = _parse(markup)
        assert evil in _texts(figure)


def test_series_must_match_the_labels() -> None:
    with pytest.raises(ValueError, match="one value per label"):
        horizontal_bars("x", "t", ["a", "b"], [Series("s", [1])], value_label="v")
    with pytest.raises(ValueError, match="one value per label"):
        columns("x", "t", ["a"], [1, 2], x_label="x", y_label="y")


def test_numbers_use_the_vietnamese_thousands_separator() -> None:
    assert number_vi(0) == "0" and number_vi(1234567) == "1.234.567"
