"""Configuration values that used to be accepted and are refused now, each in one line
naming the key: stop and target tables outside (0, 1) or out of order, values coerced
between booleans, numbers and text, generator sections no basket uses (and a sweep over
them), capital beyond what the money arithmetic carries, and ``config check`` on a
configuration whose instruments or calendar file is missing."""

from __future__ import annotations

from decimal import Decimal

import pytest

from helpers.cli import invoke, one_line_error
from twotier.config import load_config
from twotier.config.baskets import fit_baskets
from twotier.errors import ConfigError
from twotier.optimize.space import load_space
from twotier.optimize.sweep import prepare_sets


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("exits.stop_losses=[[2, 0.03], [4, 1.2]]", "stop_losses: 1.2 is not a fraction in (0, 1)"),
        ("exits.stop_losses=[[2, 0.03], [4, 0]]", "stop_losses: 0.0 is not a fraction in (0, 1)"),
        ("exits.stop_losses=[[4, 0.025], [2, 0.03]]", "from lowest to highest, each once"),
        ("exits.stop_losses=[[2, 0.03], [2, 0.025]]", "from lowest to highest, each once"),
        ("exits.stop_losses=[[0, 0.03]]", "stop_losses: leverage band 0.0 is below or at 0"),
        ("exits.profit_targets=[[5, 0.07], [0, 1.5]]", "profit_targets: 1.5 is not a fraction"),
        ("exits.profit_targets=[[3, 0.08], [5, 0.07]]", "from highest to lowest, each once"),
        ("exits.profit_targets=[[5, 0.07], [-1, 0.1]]", "leverage band -1.0 is below 0.0"),
        ("sizing.strong.fixed_target=1.5", "Input should be less than 1"),
        ("breakers.chaos_target_cap=2", "Input should be less than 1"),
        ("sizing.max_leverage=true", "sizing.max_leverage: Input should be a valid number"),
        ('exits.trailing_stop="yes"', "exits.trailing_stop: Input should be a valid boolean"),
        ("exits.trailing_stop=1", "exits.trailing_stop: Input should be a valid boolean"),
        ("execution.fees=0", "execution.fees: Input should be a valid boolean"),
        ("execution.slippage_ticks=true", "execution.slippage_ticks: Input should be a valid int"),
        ('tier1.min_confidence="0.3"', "tier1.min_confidence: Input should be a valid number"),
        ("tier1.indicators.rsi_period=14.5", "rsi_period: Input should be a valid integer"),
        ('portfolio.initial_capital="1000000"', "portfolio.initial_capital: Input should be"),
        ("portfolio.initial_capital=1e15", "less than or equal to 1000000000000"),
        # Values that passed a lower limit alone and crashed TA-Lib, sizing or the money
        # arithmetic (an internal error) or drove the portfolio to infinity:
        ("tier1.indicators.rsi_period=100001", "rsi_period: Input should be less than or"),
        ("tier1.indicators.bb_dev_up=inf", "bb_dev_up: Input should be a finite number"),
        ("tier1.indicators.bb_dev_down=1e8", "bb_dev_down: Input should be less than or equal"),
        ("broker.fee_multiplier=inf", "broker.fee_multiplier: Input should be a finite number"),
        ("broker.fee_multiplier=1e20", "fee_multiplier: Input should be less than or equal to 100"),
        ("execution.slippage_ticks=9223372036854775808", "slippage_ticks: Input should be less"),
        ("sizing.confidence_weight=1e300", "confidence_weight: Input should be less than or equal"),
        ("sizing.weak.size_slope=inf", "sizing.weak.size_slope: Input should be a finite number"),
        ("sizing.max_leverage=1e300", "sizing.max_leverage: Input should be less than or equal"),
        ("sizing.fixed_leverage=1e300", "fixed_leverage: Input should be less than or equal"),
        ("exits.trailing_activation=inf", "exits.trailing_activation: Input should be a finite"),
        (
            'portfolio.baskets.0.sizing={leverage_mode = "fixed", fixed_leverage = 20}',
            "portfolio.baskets.0.sizing (DCE/i): fixed_leverage must not exceed",
        ),
        (
            'generators."dce/i".params.min_confidence=0.3',
            "generators.dce/i: no basket trades 'dce/i'",
        ),
        (
            'generators."SHFE/al".name="AlIndicator"',
            "generators.SHFE/al: no basket trades 'SHFE/al'",
        ),
    ],
)
def test_a_value_the_rules_cannot_mean_is_refused(override, message):
    with pytest.raises(ConfigError) as info:
        load_config(None, [override])
    assert message in str(info.value)
    assert "\n" not in str(info.value)
    assert "Value error" not in str(info.value) and "(value)" not in str(info.value)


def test_a_participation_cap_without_volume_fills_is_warned_about_not_refused():
    # It was ignored silently. Refused, it broke sweeps pairing the two keys, and paper
    # states and run folders that hold them: a warning in the run's, on stderr too.
    config = load_config(None, ["market.max_participation=0.1", "market.volume_fills=false"])
    assert fit_baskets(config, config.instruments).warnings == [
        "market.max_participation = 0.1 does nothing with market.volume_fills = false: no "
        "fill is capped by volume"
    ]
    assert fit_baskets(load_config(), ["DCE/i", "SHFE/cu", "DCE/m"]).warnings == []


def test_an_invalid_configuration_names_the_options_that_changed_it(tmp_path, capsys):
    # --label and --contract-column are overrides too: the error blamed a --set not given.
    bars = tmp_path / "i.csv"
    bars.write_text("time,open,high,low,close,volume\n")
    (tmp_path / "bad.toml").write_text('[sizing]\nleverage_mode = "fixed"\nmax_leverage = 1.0\n')
    args = ["backtest", "--bars", f"DCE/i={bars}", "--config", tmp_path / "bad.toml"]
    code, _, err = invoke([*args, "--label", "end", "--contract-column", "c"], capsys)
    assert code == 1
    assert "bad.toml + --label --contract-column: invalid configuration" in one_line_error(err)
    code, _, err = invoke([*args, "--set", "execution.fill=close"], capsys)
    assert "bad.toml + --set: invalid configuration" in one_line_error(err)


def test_fixed_leverage_within_the_caps_in_fixed_mode_only():
    fixed = ['sizing.leverage_mode="fixed"', "sizing.fixed_leverage=16"]
    with pytest.raises(ConfigError, match="fixed_leverage must not exceed max_basket_leverage"):
        load_config(None, fixed)
    # Smart mode never uses it: a cap below the default 1.5 stays a valid setting.
    assert load_config(None, ["sizing.max_leverage=1.0"]).sizing.max_leverage == 1.0


def test_numbers_stay_numbers_and_tables_come_as_lists():
    config = load_config(
        None,
        [
            "sizing.max_leverage=18",  # an integer is a number
            "portfolio.initial_capital=2500000.5",
            "exits.stop_losses=[[2, 0.03], [5, 0.02]]",
            'tier1.required_checks=["trend", "momentum"]',
            'generators."DCE/i".params.min_confidence=0.3',
        ],
    )
    assert config.sizing.max_leverage == 18.0
    assert config.portfolio.initial_capital == Decimal("2500000.5")
    assert config.exits.stop_losses == ((2.0, 0.03), (5.0, 0.02))
    assert config.tier1.required_checks == ("trend", "momentum")
    assert config.tier1_params("DCE/i").min_confidence == 0.3


def test_a_basket_override_is_strict_too():
    with pytest.raises(ConfigError, match=r"portfolio\.baskets\.0\.exits"):
        load_config(None, ['portfolio.baskets.0.exits={trailing_stop = "yes"}'])


def test_a_sweep_never_varies_a_generator_no_basket_uses(tmp_path):
    space = tmp_path / "space.toml"
    space.write_text('[space]\n"generators.dce/i.params.min_confidence" = [0.2, 0.3]\n')
    with pytest.raises(ConfigError, match="no basket trades 'dce/i'"):
        prepare_sets(load_space(space), load_config())


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('[data]\ninstruments_file = "nope.toml"\n', "nope.toml: instrument file not found"),
        ('[data]\ncalendar_file = "nope.toml"\n', "nope.toml: calendar file not found"),
        (
            '[portfolio]\nbaskets = [{instrument = "DCE/x", capital_fraction = 0.3}]\n',
            "portfolio.baskets.0: unknown instrument 'DCE/x'",
        ),
        ("[exits]\nmax_leverage = true\n", "unknown key 'exits.max_leverage'"),
    ],
)
def test_config_check_fails_on_what_a_run_would_fail_on(
    body, message, tmp_path, capsys, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "my.toml").write_text(body)
    code, out, err = invoke(["config", "check", "my.toml"], capsys)
    assert code == 1 and out == ""
    assert message in one_line_error(err)


def test_config_check_passes_a_good_file(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, _ = invoke(["config", "show"], capsys)
    (tmp_path / "my.toml").write_text(out)
    code, out, err = invoke(["config", "check", "my.toml"], capsys)
    assert code == 0 and out == "my.toml: valid\n", err


def test_config_show_lists_the_data_keys_left_unset(capsys):
    code, out, _ = invoke(["config", "show"], capsys)
    assert code == 0
    data = out[out.index("[data]") :]
    for key in ("label", "on_bad_bar", "contract_column", "instruments_file", "calendar_file"):
        assert f"{key} = " in data, key
    assert '# contract_column = ""  # unset: column of bar files naming' in data


@pytest.mark.skipif(not __import__("os").path.exists("/dev/null"), reason="no /dev/null here")
@pytest.mark.parametrize(
    ("args", "what"),
    [
        (["config", "check", "/dev/null"], "the configuration file is not a file"),
        ("instruments_file", "the instrument file is not a file"),
        ("calendar_file", "the calendar file is not a file"),
    ],
)  # fmt: skip
def test_a_device_given_as_a_configuration_input_is_refused(args, what, capsys, tmp_path):
    # /dev/zero was read to the end (never), /dev/null as an empty file; a device or a
    # pipe is refused as a bar file is.
    if isinstance(args, str):  # a file the configuration names
        config = tmp_path / "config.toml"
        config.write_text(f'[data]\n{args} = "/dev/null"\n')
        args = ["config", "check", str(config)]
    code, _, err = invoke(args, capsys)
    assert code == 1 and what in one_line_error(err)


def test_a_toml_file_with_a_byte_order_mark_is_read(tmp_path):
    path = tmp_path / "config.toml"
    path.write_bytes('\ufeff[execution]\nfill = "close"\n'.encode())
    assert load_config(path).execution.fill == "close"
    space = tmp_path / "space.toml"
    space.write_bytes('\ufeff[space]\n"exits.stop_loss_above" = [0.01, 0.02]\n'.encode())
    assert load_space(space)


def test_a_file_a_configuration_names_is_read_from_the_configurations_folder(tmp_path, monkeypatch):
    # It was read from the current folder, and a run's config.toml named it as written:
    # `--config RUN/config.toml` from elsewhere failed, or read another file of that name.
    folder = tmp_path / "cfg"
    folder.mkdir()
    (folder / "calendar.toml").write_text("holidays = []\n")
    (folder / "config.toml").write_text('[data]\ncalendar_file = "calendar.toml"\n')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    config = load_config(folder / "config.toml")
    assert config.data.calendar_file == str(folder / "calendar.toml")
    given = load_config(overrides=["data.instruments_file=../cfg/instruments.toml"])
    assert given.data.instruments_file == str(elsewhere / "../cfg/instruments.toml")
    assert load_config(folder / "config.toml", files_from=elsewhere).data.calendar_file == str(
        elsewhere / "calendar.toml"
    )
