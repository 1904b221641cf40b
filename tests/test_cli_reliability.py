"""`coding reliability`: the standalone calculator command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import coding.cli.reliability  # noqa: F401  (registers the command on the group)
from coding.agreement import reliability
from coding.cli.main import cli

DATA = Path(__file__).parent / "data" / "agreement"
KRIPPENDORFF_2011 = DATA / "krippendorff2011_4obs_12units.csv"


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["reliability", *args])
    return result.exit_code, result.output


def test_json_output_is_the_reliability_result_with_null_where_undefined() -> None:
    code, output = _run(str(KRIPPENDORFF_2011), "--level", "interval", "--format", "json")
    assert code == 0
    shown = json.loads(output)
    expected = reliability(KRIPPENDORFF_2011, "units-by-coders", level="interval")
    assert shown["krippendorff_alpha"] == pytest.approx(expected.value("krippendorff_alpha"))
    assert shown["krippendorff_alpha"] == pytest.approx(0.849107, abs=5e-4)
    assert shown["cohen_kappa"] is None
    assert shown["notes"]["cohen_kappa"] == "needs exactly two coders"


def test_json_output_is_the_report_as_plain_data() -> None:
    args = ("--bootstrap", "100", "--seed", "4", "--weights", "linear", "--format", "json")
    code, output = _run(str(KRIPPENDORFF_2011), *args)
    assert code == 0
    report = reliability(
        KRIPPENDORFF_2011, "units-by-coders", weights="linear", bootstrap=100, seed=4
    )
    assert json.loads(output) == json.loads(json.dumps(report.to_dict()))


def test_table_output_lists_statistics_and_reasons() -> None:
    code, output = _run(str(KRIPPENDORFF_2011))
    assert code == 0
    assert "krippendorff_alpha " in output
    assert "0.7434" in output
    assert "cohen_kappa: needs exactly two coders" in output


def test_coders_option_selects_two_coders_for_cohen() -> None:
    code, output = _run(
        str(DATA / "irr_anxiety_20x3.csv"),
        "--coders",
        "rater2,rater3",
        "--weights",
        "linear",
        "--format",
        "json",
    )
    assert code == 0
    shown = json.loads(output)
    assert shown["cohen_kappa"] == pytest.approx(-0.006289308, abs=1e-6)
    assert shown["cohen_weighted_kappa"] == pytest.approx(0.1459075, abs=1e-6)


def test_contingency_layout_with_quadratic_weights() -> None:
    code, output = _run(
        str(DATA / "cohen1960_3x3_200.csv"),
        "--layout",
        "contingency",
        "--weights",
        "quadratic",
        "--format",
        "json",
    )
    assert code == 0
    assert json.loads(output)["cohen_weighted_kappa"] == pytest.approx(0.454545, abs=1e-5)


def test_long_layout_with_masi_distance() -> None:
    code, output = _run(
        str(DATA / "dkpro_set_annotations_9units.csv"),
        "--layout",
        "long",
        "--distance",
        "masi",
        "--format",
        "json",
    )
    assert code == 0
    assert json.loads(output)["krippendorff_alpha"] == pytest.approx(0.273081, abs=5e-4)


def test_counts_layout() -> None:
    code, output = _run(
        str(DATA / "fleiss1971_diagnoses_counts.csv"), "--layout", "counts", "--format", "json"
    )
    assert code == 0
    assert json.loads(output)["fleiss_kappa"] == pytest.approx(0.4302445, abs=5e-4)


def test_spans_layout_with_continuum() -> None:
    code, output = _run(
        str(DATA / "krippendorff2004_unitizing_p254.csv"),
        "--layout",
        "spans",
        "--continuum",
        "150:450",
        "--format",
        "json",
    )
    assert code == 0
    shown = json.loads(output)
    assert shown["krippendorff_u_alpha"] == pytest.approx(0.858665, abs=5e-4)
    assert shown["krippendorff_u_alpha_by_category"]["c"] == pytest.approx(0.728599, abs=1e-4)


def test_bootstrap_adds_intervals_and_repeats_with_the_seed() -> None:
    args = (str(KRIPPENDORFF_2011), "--bootstrap", "500", "--seed", "3", "--format", "json")
    first, second = _run(*args), _run(*args)
    assert first == second
    shown = json.loads(first[1])
    low, high = shown["krippendorff_alpha_ci"]
    assert low < shown["krippendorff_alpha"] < high
    assert shown["krippendorff_alpha_bootstrap"]["M_draws"] == 60
    assert len(shown["fleiss_kappa_ci"]) == 2


def test_alpha_ci_units_resamples_units_and_says_so() -> None:
    args = (str(KRIPPENDORFF_2011), "--bootstrap", "500", "--seed", "3", "--format", "json")
    code, output = _run(*args, "--alpha-ci", "units")
    assert code == 0
    shown = json.loads(output)
    assert shown["krippendorff_alpha_ci_method"] == "units"
    assert shown["krippendorff_alpha_bootstrap"]["method"] == "units"
    assert shown["krippendorff_alpha_bootstrap"]["units_resampled"] == 11
    low, high = shown["krippendorff_alpha_ci"]
    assert low < shown["krippendorff_alpha"] < high
    default = json.loads(_run(*args)[1])
    assert default["krippendorff_alpha_ci_method"] == "krippendorff"


def test_unknown_alpha_ci_is_a_usage_error() -> None:
    code, output = _run(str(KRIPPENDORFF_2011), "--bootstrap", "10", "--alpha-ci", "efron")
    assert code == 2
    assert "--alpha-ci" in output


def test_bad_file_gives_one_clear_message_without_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("subject,a,b\n1,2,x\n2,-1,3\n", encoding="utf-8")
    code, output = _run(str(bad), "--layout", "counts")
    assert code == 1
    assert "bad.csv: 2 problem(s)" in output
    assert "row 2" in output and "row 3" in output
    assert "Traceback" not in output


def test_unknown_coder_is_reported() -> None:
    code, output = _run(str(KRIPPENDORFF_2011), "--coders", "A,Z")
    assert code == 1
    assert "'Z'" in output or "Z:" in output


def test_interval_level_on_text_codes_is_reported() -> None:
    code, output = _run(
        str(DATA / "krippendorff2004_p227_nominal_2coders.csv"), "--level", "interval"
    )
    assert code == 1
    assert "must be numbers" in output


@pytest.mark.parametrize("continuum", ["450:150", "a:b", "150"])
def test_bad_continuum_is_a_usage_error(continuum: str) -> None:
    code, output = _run(
        str(DATA / "krippendorff2004_unitizing_p254.csv"),
        "--layout",
        "spans",
        "--continuum",
        continuum,
    )
    assert code == 2
    assert "--continuum" in output


def test_the_table_is_aligned_names_and_values_then_the_caveats() -> None:
    code, output = _run(str(KRIPPENDORFF_2011))
    assert code == 0
    lines = output.splitlines()
    assert lines[:3] == [
        "layout                                    units-by-coders",
        "level                                     nominal",
        "distance                                  -",
    ]
    assert "krippendorff_alpha                        0.7434" in lines
    assert lines[-4:] == [
        "",
        "undefined or caveats:",
        "  cohen_kappa: needs exactly two coders",
        "  scott_pi: needs exactly two coders",
    ]


@pytest.mark.parametrize(
    ("layout", "flags", "refused"),
    [
        ("spans", ["--bootstrap", "10"], "--bootstrap"),
        ("spans", ["--seed", "3"], "--seed"),
        ("spans", ["--level", "ordinal"], "--level"),
        ("counts", ["--coders", "A,B"], "--coders"),
        ("contingency", ["--continuum", "0:10"], "--continuum"),
        ("units-by-coders", ["--continuum", "0:10"], "--continuum"),
    ],
)
def test_an_option_the_layout_ignores_is_refused_naming_both(
    layout: str, flags: list[str], refused: str
) -> None:
    code, output = _run(str(KRIPPENDORFF_2011), "--layout", layout, *flags)
    assert code == 2
    view = f"--layout {layout}"
    assert f"{view} and {refused} cannot be used together ({view} ignores {refused})" in output
