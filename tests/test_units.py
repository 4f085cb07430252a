"""SI parsing, display and SPICE number formatting."""

from __future__ import annotations

import pytest

from neurochip.errors import InvalidParameterError
from neurochip.units import format_si, parse_quantity, spice_number


@pytest.mark.parametrize(
    "text,unit,expected",
    [
        ("0.5nA", "A", 0.5e-9),
        ("20 ms", "s", 20e-3),
        ("1 pF", "F", 1e-12),
        ("2e-9", "A", 2e-9),
        ("250 MOhm", "Ohm", 250e6),
        ("3k", None, 3e3),
        ("-1.5 uA", "A", -1.5e-6),
        (" 7 ", None, 7.0),
        (4, "A", 4.0),
    ],
)
def test_parse_quantity(text, unit, expected):
    assert parse_quantity(text, unit=unit) == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize(
    "text,unit,match",
    [
        ("2 mV", "A", r"--current = '2 mV': unit 'V' given, expected 'A'"),
        ("abc", "A", r"--current = 'abc': not a quantity"),
        ("1..2", None, "not a quantity"),
        (True, None, "boolean"),
    ],
)
def test_parse_quantity_errors_name_the_field(text, unit, match):
    with pytest.raises(InvalidParameterError, match=match):
        parse_quantity(text, unit=unit, name="--current")


@pytest.mark.parametrize(
    "value,expected",
    [(20e-15, "20f"), (1e6, "1meg"), (2.5e-9, "2.5n"), (0.0, "0"), (-3e-3, "-3m"), (1.0, "1"), (4.7e3, "4.7k")],
)
def test_spice_number(value, expected):
    assert spice_number(value) == expected


def test_spice_number_never_writes_capital_m_and_round_trips():
    for value in (1e6, 3.3e6, 1.234567890123e-13, 9.99e8, 1.5e12):
        text = spice_number(value)
        assert "M" not in text
        suffix = {"t": 1e12, "g": 1e9, "meg": 1e6, "k": 1e3, "m": 1e-3, "u": 1e-6, "n": 1e-9, "p": 1e-12, "f": 1e-15}
        for s, scale in sorted(suffix.items(), key=lambda kv: -len(kv[0])):
            if text.endswith(s):
                assert float(text[: -len(s)]) * scale == pytest.approx(value, rel=1e-14)
                break
        else:
            assert float(text) == pytest.approx(value, rel=1e-14)
    with pytest.raises(InvalidParameterError):
        spice_number(float("inf"))


def test_format_si():
    assert format_si(2e-9, "A") == "2 nA"
    assert format_si(1500.0, "Hz") == "1.5 kHz"
    assert format_si(0.0, "V") == "0 V"
    assert format_si(float("inf"), "Hz") == "inf Hz"


def test_format_si_rounding_carries_into_the_next_prefix():
    # the prefix is chosen for the rounded value: never "1000 mV" or "1e+03 kHz"
    assert format_si(0.99996, "V") == "1 V"
    assert format_si(999_999.0, "Hz", digits=3) == "1 MHz"
    assert format_si(-999.96e-12, "J") == "-1 nJ"
    assert format_si(999.4, "Hz", digits=3) == "999 Hz"
