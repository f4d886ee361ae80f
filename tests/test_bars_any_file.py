"""Whatever a bar file holds, reading it gives bars or a ``DataError`` naming the file:
never another exception, which the command line would show as an internal error. The
files are mostly good rows with bad cells, rows and options mixed in (the cases that
once broke: a year nanoseconds cannot hold, zones mixed, a word in a column a repair or
an auction fold writes to, more fields than the header)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from twotier.errors import DataError
from twotier.market.bars import read_bars

TIMES = [
    "2024-03-05 09:00:00", "2024-03-05 08:59:00", "2024-03-05 15:00:00", "2024-03-05 21:00:00",
    "2024-03-06 00:30:00", "2024-03-09 21:00:00", "2024-03-05 09:00:30", "1600-01-01 09:00:00",
    "2300-01-01 09:00:00", "2024-02-30 09:00:00", "2024/03/05 09:00", "09:00", "-1", "",
    "x", "2024-03-05 01:00:00Z", "2024-03-05T01:00:00+00:00", "2024-03-05 09:00:00.5",
]  # fmt: skip
NUMBERS = [
    "800", "0", "-1", "-0", "1e400", "nan", "inf", "", "x", "1e308", " 800 ", '"800"', "9e18",
    "123456789012345678901234567890", "0x10",
]  # fmt: skip
OTHER = {
    "trading_day": ["20240305", "2024-03-05", "", "x", "16000101", "2024-02-30"],
    "contract": ["i2405", "i2409", "", "x", "I2405"],
    "date": ["2024-03-05", "20240305", "", "x"],
}
REQUIRED = ["time", "open", "high", "low", "close", "volume"]
OPTIONAL = ["open_interest", "settle", "limit_up", "limit_down", "trading_day", "contract", "date"]


@st.composite
def bar_files(draw) -> tuple[str, dict]:
    names = [name for name in REQUIRED if draw(st.integers(0, 19)) > 0]
    names += draw(st.lists(st.sampled_from(OPTIONAL), max_size=3, unique=True))
    if names and draw(st.integers(0, 19)) == 0:
        names.append(names[0])  # a name twice
    names = draw(st.permutations(names))
    good = {"open": "800", "high": "801", "low": "799", "close": "800.5", "volume": "10"}
    lines = [",".join(names)]
    for k in range(draw(st.integers(0, 12))):
        minute = 9 * 60 + 15 * k
        cells = []
        for name in names:
            if draw(st.integers(0, 9)) < 8 and (name in good or name == "time"):
                value = good.get(name, f"2024-03-05 {minute // 60:02d}:{minute % 60:02d}:00")
            elif name == "time":
                value = draw(st.sampled_from(TIMES))
            else:
                value = draw(st.sampled_from(OTHER.get(name, NUMBERS)))
            cells.append(value)
        cells = cells[: draw(st.sampled_from([len(cells)] * 8 + [0, 2]))]
        lines.append(",".join(cells) + draw(st.sampled_from(["", "", "", ",", ",7"])))
    options = {
        "label": draw(st.sampled_from(["start", "end"])),
        "on_bad_bar": draw(st.sampled_from(["refuse", "drop", "repair"])),
        "bar_minutes": draw(st.sampled_from([None, 1, 5, 15])),
        "auction": draw(st.sampled_from(["merge", "refuse"])),
        "night_date": draw(st.sampled_from(["calendar", "trading_day"])),
    }
    if "contract" in names and draw(st.booleans()):
        options["contract_column"] = "contract"
    return "\n".join(lines) + "\n", options


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bar_files(), st.sampled_from(["DCE/i", "SHFE/cu", "DCE/m"]))
def test_any_file_gives_bars_or_a_data_error_naming_it(file, instrument):
    text, options = file
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bars.csv"
        path.write_text(text, encoding="utf-8")
        try:
            read_bars(path, instrument, **options)
        except DataError as error:
            assert str(path) in str(error)
