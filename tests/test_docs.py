"""The README a newcomer follows: how to reach the CLI, no machine's paths, packaging."""

from __future__ import annotations

import re
import tomllib

from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_tour_says_how_to_reach_the_cli_before_its_first_command() -> None:
    tour = README[README.index("## A tour with real output") :]
    before_first_command = tour[: tour.index("\n$ coding")]
    assert "source .venv/bin/activate" in before_first_command
    assert ".venv/bin/coding" in before_first_command


def test_the_readme_names_no_absolute_path_of_any_machine() -> None:
    # a path from the root (/work/..., /home/..., /tmp/...) or a Windows drive
    found = re.findall(r"(?:^|[\s`'\"(=])(/[A-Za-z][^\s`'\")]*|[A-Z]:\\\S+)", README, re.M)
    assert found == []


def test_the_license_is_an_spdx_expression_without_a_classifier() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["license"] == "MIT"
    assert not [c for c in project["project"].get("classifiers", []) if c.startswith("License")]
    # a license string needs setuptools 77 or newer to build without a deprecation banner
    assert "setuptools>=77" in project["build-system"]["requires"]
