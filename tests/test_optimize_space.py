"""Search spaces: the TOML forms, the parameter sets they make, and the clear errors for
spaces that cannot run (checked before any cluster starts)."""

from __future__ import annotations

import re

import pytest

from twotier.config import load_config
from twotier.config.load import override
from twotier.errors import ConfigError
from twotier.optimize.space import load_space, parameter_sets, parse_space, validate


def sets_of(doc: dict) -> list[dict]:
    space = parse_space(doc)
    sets = parameter_sets(space)
    validate(space, load_config(), sets)
    return [s.values for s in sets]


def refusal(doc: dict) -> str:
    with pytest.raises(ConfigError) as info:
        sets_of(doc)
    return str(info.value)


def test_grid_is_the_product_of_every_key_in_file_order_numbered_from_one():
    space = parse_space(
        {
            "space": {
                "sizing.min_conviction": {"grid": [0.2, 0.3]},
                "sizing.leverage_mode": {"grid": ["smart", "fixed"]},
            }
        }
    )
    sets = parameter_sets(space)
    assert [s.set_id for s in sets] == [1, 2, 3, 4]
    assert [tuple(s.values.values()) for s in sets] == [
        (0.2, "smart"),
        (0.2, "fixed"),
        (0.3, "smart"),
        (0.3, "fixed"),
    ]
    assert sets[1].overrides == ["sizing.min_conviction=0.2", 'sizing.leverage_mode="fixed"']


def test_range_includes_its_stop_in_exact_decimal_steps():
    values = sets_of({"space": {"exits.stop_loss_above": {"range": [0.005, 0.02, 0.005]}}})
    assert [v["exits.stop_loss_above"] for v in values] == [0.005, 0.01, 0.015, 0.02]
    days = sets_of({"space": {"breakers.drawdown_cooldown_days": {"range": [3, 7, 2]}}})
    assert [v["breakers.drawdown_cooldown_days"] for v in days] == [3, 5, 7]
    assert all(type(v["breakers.drawdown_cooldown_days"]) is int for v in days)


def test_a_bare_list_is_a_grid_and_a_scalar_a_fixed_value():
    values = sets_of({"space": {"sizing.min_conviction": [0.2, 0.25], "execution.fill": "close"}})
    assert values == [
        {"sizing.min_conviction": 0.2, "execution.fill": "close"},
        {"sizing.min_conviction": 0.25, "execution.fill": "close"},
    ]


def test_nested_tables_mean_the_same_as_quoted_dotted_keys(tmp_path):
    path = tmp_path / "space.toml"
    path.write_text(
        '[space]\n"exits.stop_loss_above" = 0.01\n'
        "[space.sizing]\nmin_conviction = {grid = [0.2, 0.3]}\n"
    )
    assert load_space(path).keys == ["exits.stop_loss_above", "sizing.min_conviction"]


def test_random_sampling_is_seeded_and_draws_within_the_bounds():
    doc = {
        "search": {"method": "random", "seed": 7, "samples": 20},
        "space": {
            "sizing.min_conviction": {"random": {"low": 0.2, "high": 0.4}},
            "breakers.drawdown_cooldown_days": {"random": {"low": 2, "high": 6}},
            "sizing.leverage_mode": {"grid": ["smart", "fixed"]},
        },
    }
    first, again = sets_of(doc), sets_of(doc)
    assert first == again and len(first) == 20
    assert all(0.2 <= v["sizing.min_conviction"] <= 0.4 for v in first)
    assert {v["breakers.drawdown_cooldown_days"] for v in first} <= {2, 3, 4, 5, 6}
    assert {v["sizing.leverage_mode"] for v in first} == {"smart", "fixed"}
    other = sets_of({**doc, "search": {**doc["search"], "seed": 8}})
    assert other != first


def test_random_in_a_grid_draws_count_values_once_sorted():
    doc = {"space": {"sizing.min_conviction": {"random": {"low": 0.2, "high": 0.4, "count": 3}}}}
    values = [v["sizing.min_conviction"] for v in sets_of(doc)]
    assert (
        len(values) == 3
        and values == sorted(values)
        and values == [v["sizing.min_conviction"] for v in sets_of(doc)]
    )


@pytest.mark.parametrize(
    ("key", "random", "expected"),
    [
        # The docs' example: 3 to 8 drew 4 twice and gave one value; 0.3 to 0.7 at one
        # digit drew a value twice and gave two.
        ("breakers.drawdown_cooldown_days", {"low": 3, "high": 8, "count": 2}, 2),
        ("limits.fallback_size_factor", {"low": 0.3, "high": 0.7, "count": 3, "digits": 1}, 3),
        ("breakers.drawdown_cooldown_days", {"low": 1, "high": 6, "count": 6}, 6),  # all
        ("breakers.drawdown_cooldown_days", {"low": 1, "high": 100, "count": 40, "log": True}, 40),
    ],
)
def test_random_in_a_grid_draws_count_different_values(key, random, expected):
    for seed in range(20):
        doc = {"space": {key: {"random": random}}, "search": {"seed": seed}}
        values = [v[key] for v in sets_of(doc)]
        assert len(set(values)) == len(values) == expected
        assert all(random["low"] <= v <= random["high"] for v in values)


@pytest.mark.parametrize(
    ("key", "random", "message"),
    [
        (
            "breakers.drawdown_cooldown_days",
            {"low": 3, "high": 8, "count": 7},
            "asks for more whole numbers than 3 to 8 holds (6)",
        ),
        (
            "limits.fallback_size_factor",
            {"low": 0.1, "high": 0.3, "count": 4, "digits": 1},
            "only 3 different values drawn",
        ),
    ],
)
def test_a_random_axis_asking_for_more_values_than_its_range_holds_is_refused(key, random, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        sets_of({"space": {key: {"random": random}}})


def test_random_sampling_of_a_small_discrete_space_keeps_each_set_once():
    doc = {
        "search": {"method": "random", "seed": 1, "samples": 30},
        "space": {"sizing.min_conviction": {"grid": [0.2, 0.3]}},
    }
    assert sorted(v["sizing.min_conviction"] for v in sets_of(doc)) == [0.2, 0.3]


def test_unknown_key_is_refused_with_a_suggestion():
    message = refusal({"space": {"sizing.min_convictoin": {"grid": [0.2]}}})
    assert "'sizing.min_convictoin': unknown configuration key" in message
    assert "did you mean sizing.min_conviction" in message


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ({"range": [0.02, 0.005, 0.005]}, "empty range [0.02, 0.005, 0.005]: start is above stop"),
        ({"range": [0.005, 0.02, 0]}, "the step must be > 0"),
        ({"random": {"low": 0.3, "high": 0.2, "count": 2}}, "empty range: random low 0.3"),
        ({"grid": []}, "grid must be a non-empty list"),
    ],
)
def test_empty_ranges_and_grids_are_refused(spec, words):
    message = refusal({"space": {"exits.stop_loss_above": spec}})
    assert "[space] 'exits.stop_loss_above'" in message and words in message


def test_a_value_the_configuration_refuses_is_named_with_its_key_and_reason():
    message = refusal({"space": {"sizing.min_conviction": {"grid": [0.2, 1.5]}}})
    assert "[space] 'sizing.min_conviction' = 1.5 is refused by the configuration" in message
    assert "less than or equal to 1" in message
    message = refusal({"space": {"sizing.leverage_mode": {"grid": ["smart", "wild"]}}})
    assert "'sizing.leverage_mode' = 'wild' is refused" in message


def test_a_set_whose_values_clash_is_refused_naming_the_set():
    message = refusal(
        {
            "space": {
                "tier1.checks.rsi_lower": {"grid": [30, 60]},
                "tier1.checks.rsi_upper": {"grid": [50, 70]},
            }
        }
    )
    assert "parameter set 3 (tier1.checks.rsi_lower = 60, tier1.checks.rsi_upper = 50)" in message
    assert "rsi_lower must be below rsi_upper" in message


def test_random_bounds_are_validated_by_the_configuration():
    message = refusal(
        {
            "search": {"method": "random", "samples": 3},
            "space": {"sizing.min_conviction": {"random": {"low": 0.5, "high": 1.2}}},
        }
    )
    assert "'sizing.min_conviction' = 1.2 is refused" in message


@pytest.mark.parametrize(
    ("doc", "words"),
    [
        ({"space": {"data.label": {"grid": ["start", "end"]}}}, "data.* keys choose how bars"),
        ({"space": {}}, "[space] is empty"),
        ({"spaces": {}}, "unknown section(s) spaces"),
        ({"search": {"method": "random"}, "space": {"sizing.min_conviction": 0.3}}, "samples"),
        ({"search": {"method": "anneal"}, "space": {"sizing.min_conviction": 0.3}}, "'anneal'"),
        (
            {"space": {"sizing.min_conviction": {"random": {"low": 0.2, "high": 0.3}}}},
            "random needs count",
        ),
        ({"space": {"sizing.min_conviction": {"grid": [0.2], "range": [0, 1, 1]}}}, "one of"),
        # numpy cannot draw from these (an internal OverflowError before):
        (
            {
                "search": {"method": "random", "samples": 2},
                "space": {"sizing.max_leverage": {"random": {"low": -1e308, "high": 1e308}}},
            },
            "is wider than numbers are drawn in",
        ),
        (
            {
                "search": {"method": "random", "samples": 2},
                "space": {"breakers.drawdown_cooldown_days": {"random": {"low": 0, "high": 2**63}}},
            },
            "is wider than numbers are drawn in",
        ),
    ],
)
def test_malformed_spaces_are_refused_before_anything_runs(doc, words):
    assert words in refusal(doc)


def test_a_file_that_is_not_toml_names_the_file(tmp_path):
    path = tmp_path / "space.toml"
    path.write_text("[space\n")
    with pytest.raises(ConfigError, match=r"space\.toml: not valid TOML"):
        load_space(path)


def test_generator_basket_and_list_valued_keys_can_be_swept():
    values = sets_of(
        {
            "space": {
                "generators.DCE/i.params.checks.rsi_lower": {"grid": [25, 35]},
                "portfolio.baskets.0.exits.stop_loss_above": 0.012,
                "tier1.required_checks": {"grid": [["trend", "momentum"], ["trend"]]},
            }
        }
    )
    assert len(values) == 4
    config = load_config(None, [override(k, v) for k, v in values[1].items()])
    assert config.tier1_params("DCE/i").checks.rsi_lower == 25
    assert config.tier1_params("SHFE/cu").checks.rsi_lower == 30  # the shared value
    assert config.basket_exits(0).stop_loss_above == 0.012
    assert config.tier1.required_checks == ("trend",)


def test_a_grid_of_tables_is_written_as_toml_the_configuration_reads():
    # A JSON object is no TOML: a sweep over the baskets was refused as text.
    baskets = [
        {"instrument": "DCE/i", "capital_fraction": 0.5},
        {"instrument": "DCE/m", "capital_fraction": 0.4},
    ]
    assert override("portfolio.baskets", baskets) == (
        'portfolio.baskets=[{"instrument" = "DCE/i", "capital_fraction" = 0.5}, '
        '{"instrument" = "DCE/m", "capital_fraction" = 0.4}]'
    )
    config = load_config(None, [override("portfolio.baskets", baskets)])
    assert config.instruments == ["DCE/i", "DCE/m"]
    assert sets_of({"space": {"portfolio.baskets": {"grid": [baskets]}}}) == [
        {"portfolio.baskets": baskets}
    ]


def test_one_key_written_both_quoted_and_nested_is_refused(tmp_path):
    # Both forms mean the same key: one grid was dropped without a word.
    path = tmp_path / "space.toml"
    path.write_text(
        '[space]\n"sizing.min_conviction" = {grid = [0.2]}\n'
        "[space.sizing]\nmin_conviction = {grid = [0.3]}\n"
    )
    with pytest.raises(ConfigError, match=r"\[space\] 'sizing.min_conviction' is given twice"):
        load_space(path)
