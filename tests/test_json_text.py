"""Every JSON document twotier writes is strict JSON: a number without a finite value is
null (JSON has no NaN or Infinity; strict readers refuse Python's spelling of them)."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import twotier
from twotier.json_text import float_arrays_json, float_reprs, json_text, plain
from twotier.market.sample import load_sample
from twotier.run.writer import write_run


def strict(text: str):
    def refuse(constant):
        raise AssertionError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


def test_non_finite_numbers_are_null_and_numpy_scalars_plain_numbers():
    value = {
        "nan": float("nan"),
        "inf": math.inf,
        "minus_inf": np.float64(-np.inf),
        "count": np.int64(7),
        "flag": np.bool_(True),
        "ratio": np.float32(0.5),
        "missing": pd.NA,
        "nested": ({"deep": [np.nan, 1.25]},),
        3: "key made text",
    }
    assert strict(json_text(value)) == {
        "nan": None,
        "inf": None,
        "minus_inf": None,
        "count": 7,
        "flag": True,
        "ratio": 0.5,
        "missing": None,
        "nested": [{"deep": [None, 1.25]}],
        "3": "key made text",
    }
    assert type(plain(np.int64(7))) is int and type(plain(np.bool_(False))) is bool


floats = st.floats(allow_nan=True, allow_infinity=True)
documents = st.recursive(
    floats | st.integers() | st.text(max_size=5) | st.none(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=20,
)


@given(documents)
def test_any_document_reads_back_strictly_with_its_finite_numbers_exact(document):
    def expected(value):
        if isinstance(value, float):
            return value if math.isfinite(value) else None
        if isinstance(value, list):
            return [expected(v) for v in value]
        if isinstance(value, dict):
            return {k: expected(v) for k, v in value.items()}
        return value

    assert strict(json_text(document, indent=2)) == expected(document)


def compact(value) -> str:
    return json.dumps(value, separators=(",", ":"), allow_nan=False)


EDGES = [
    *(0.0, -0.0, 1.0, -3.0, 0.1, 1e-4, -1e-4, 9.999e-5, 1e-5, 1e-7, 5e-324, 0.30000000000000004),
    *(999999999.5, 9999999999.0, -9999999999.0, 1e10, -1e10, 1e15, 1e16, 1.7976931348623157e308),
    *(float(np.nextafter(1e-4, 0.0)), float(np.nextafter(1e10, 0.0)), 123456789.0, 1e6),
]


@given(
    st.lists(st.lists(st.floats(allow_nan=False, allow_infinity=False), max_size=30), max_size=4)
)
def test_float_arrays_are_written_as_json_writes_their_lists(lists):
    arrays = [np.array(values, dtype=np.float64) for values in lists]
    assert float_arrays_json(arrays) == [compact(values) for values in lists]


def test_float_arrays_are_written_as_json_writes_their_lists_at_every_scale():
    rng = np.random.default_rng(7)
    arrays = [np.array(EDGES), rng.uniform(-1, 1, 3000).view(np.uint64).view(np.float64)]
    for digits in range(8):  # rounded, as the report's series are
        scale = 10.0 ** rng.integers(-8, 14, 2000)
        arrays.append(np.round(rng.normal(0, 1, 2000) * scale, digits))
    arrays.append(np.round(rng.integers(-(10**12), 10**12, 2000) / 10.0 ** rng.integers(0, 3)))
    arrays = [values[np.isfinite(values)] for values in arrays]
    assert float_arrays_json(arrays) == [compact(values.tolist()) for values in arrays]


@given(st.lists(st.floats(allow_nan=False, allow_infinity=False), max_size=30))
def test_float_reprs_are_the_floats_reprs(values):
    assert float_reprs(np.array(values, dtype=np.float64)) == [repr(v) for v in values]


def test_float_reprs_are_the_floats_reprs_at_the_edges():
    values = np.array([*EDGES, *(-v for v in EDGES)])
    assert float_reprs(values) == [repr(v) for v in values.tolist()]


@pytest.fixture(scope="module")
def short_run():
    bars = load_sample("DCE/i")
    bars = bars[bars["trading_day"] <= pd.Timestamp("2023-02-28")]
    return twotier.backtest(bars={"DCE/i": bars})


def test_summary_json_writes_a_figure_without_a_finite_value_as_null(short_run, tmp_path):
    short_run.summary["not_a_number"] = float("nan")
    short_run.summary["without_end"] = math.inf
    try:
        folder = write_run(short_run, tmp_path / "run")
    finally:
        del short_run.summary["not_a_number"], short_run.summary["without_end"]
    summary = strict((folder / "summary.json").read_text())
    assert summary["not_a_number"] is None and summary["without_end"] is None
    assert summary["trades"] == short_run.summary["trades"]
