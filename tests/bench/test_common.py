"""The arithmetic the bench scripts' verdicts are read from (bench/_common.py): a wrong
percentile or fit would print a wrong "met" without anyone noticing."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# The bench scripts import each other as top-level modules (``import _common``), as scripts
# run from bench/ do; the test does the same, so the module has one name everywhere.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from _common import fit_line, percentile, verdict  # noqa: E402


def test_percentile_interpolates_between_ranks():  # type: ignore[no-untyped-def]
    values = [float(v) for v in range(1, 101)]  # 1..100, shuffled order must not matter
    assert percentile(list(reversed(values)), 50) == pytest.approx(50.5)
    assert percentile(values, 99) == pytest.approx(99.01)
    assert percentile(values, 0) == 1 and percentile(values, 100) == 100
    assert percentile([7.0], 99) == 7.0
    # a p99 of ten samples lies between the two slowest, near the slowest
    assert percentile([1.0] * 9 + [1000.0], 99) == pytest.approx(1000 - 0.09 * 999)


def test_percentile_refuses_nothing_and_bad_q():  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def test_verdict_says_met_or_missed_by_how_much():  # type: ignore[no-untyped-def]
    assert verdict(138, 150) == "met (12 ms to spare)"
    assert verdict(150, 150) == "met (0 ms to spare)"
    assert verdict(185, 150) == "MISSED by 35 ms (1.23x)"
    assert verdict(5, None) == "-"


def test_fit_line_finds_fixed_cost_and_cost_per_row():  # type: ignore[no-untyped-def]
    # 45 ms fixed + 14 µs per publication, exactly
    points = [(n, 45 + 0.014 * n) for n in (12_500, 37_000, 150_000)]
    fixed, per = fit_line(points)
    assert fixed == pytest.approx(45)
    assert per == pytest.approx(0.014)
    # noisy points: the least-squares line, not the line through the first and last
    fixed, per = fit_line([(0, 1), (1, 3), (2, 2)])
    assert (fixed, per) == (pytest.approx(1.5), pytest.approx(0.5))


def test_fit_line_needs_two_distinct_x():  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError):
        fit_line([(1, 2)])
    with pytest.raises(ValueError):
        fit_line([(1, 2), (1, 3)])
