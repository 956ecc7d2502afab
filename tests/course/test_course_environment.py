"""Tests for course.environment: the first cell of every release notebook."""

import os
import shlex
import sys

import pytest

from course.environment import REQUIRED_PACKAGES, check_environment


@pytest.fixture(autouse=True)
def no_data_dir_override(monkeypatch):
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)


def test_all_checks_pass_in_the_course_environment(capsys):
    """Check that the course's own environment passes, with versions for every package."""
    report = check_environment("01_latency", data_files=("latency_numbers.csv",))
    assert report["ok"] is True, report
    assert set(report) == {"python", "packages", "data", "ok"}
    assert report["python"]["ok"] is True
    assert report["python"]["version"].startswith(f"{sys.version_info[0]}.{sys.version_info[1]}")
    assert set(report["packages"]) == set(REQUIRED_PACKAGES) >= {
        "numpy", "pandas", "matplotlib", "networkx", "simpy", "nbgrader"
    }
    import numpy

    assert report["packages"]["numpy"]["version"] == numpy.__version__
    assert report["data"]["latency_numbers.csv"]["ok"] is True
    printed = capsys.readouterr().out
    assert "numpy" in printed and "latency_numbers.csv" in printed


def test_summary_ends_with_how_to_grade_the_notebook(capsys):
    """Check that the printed summary ends with the grading command for this notebook."""
    check_environment("03_load_balancing")
    printed = capsys.readouterr().out.strip()
    last = printed.splitlines()[-1].strip()
    # this folder and this Python, by absolute path: a terminal's PATH may put another Python first
    assert last == f"cd {shlex.quote(os.getcwd())} && {shlex.quote(sys.executable)} -m autograde grade 03_load_balancing.ipynb"
    assert "terminal" in printed


def test_a_notebook_file_name_is_accepted_as_the_module(capsys):
    """Check that '01_latency.ipynb' is not turned into '01_latency.ipynb.ipynb'."""
    check_environment("01_latency.ipynb", packages=())
    assert capsys.readouterr().out.strip().endswith("grade 01_latency.ipynb")


def test_a_missing_package_is_reported_not_raised(capsys):
    """Check that a package that is not installed sets ok False and is named in the summary."""
    report = check_environment(
        "01_latency", packages=("numpy", "no_such_package_for_the_course")
    )
    assert report["ok"] is False
    assert report["packages"]["numpy"]["ok"] is True
    missing = report["packages"]["no_such_package_for_the_course"]
    assert missing["ok"] is False and missing["version"] is None and missing["problem"]
    printed = capsys.readouterr().out
    assert "no_such_package_for_the_course" in printed
    assert "-m autograde grade 01_latency.ipynb" in printed


def test_a_missing_data_file_is_reported_not_raised(capsys):
    """Check that a data file that is not there sets ok False and is named."""
    report = check_environment("01_latency", data_files=("missing.csv",), packages=())
    assert report["ok"] is False
    assert report["data"]["missing.csv"]["ok"] is False
    assert "missing.csv" in capsys.readouterr().out


def test_a_tampered_data_file_is_reported_not_raised(tmp_path, monkeypatch, capsys):
    """Check that a data file with the wrong hash sets ok False."""
    (tmp_path / "manifest.json").write_text(
        '{"x.csv": {"sha256": "0000", "source": "s", "made_by": "transcribed", '
        '"description": "d"}}',
        encoding="utf-8",
    )
    (tmp_path / "x.csv").write_text("a\n1\n", encoding="utf-8")
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    report = check_environment("01_latency", data_files=("x.csv",), packages=())
    assert report["ok"] is False
    assert "sha256" in report["data"]["x.csv"]["problem"]


def test_an_old_python_is_reported(monkeypatch, capsys):
    """Check that Python 3.10 is reported as too old."""
    monkeypatch.setattr(sys, "version_info", (3, 10, 12, "final", 0))
    report = check_environment("01_latency", packages=())
    assert report["ok"] is False and report["python"]["ok"] is False
    assert "3.10.12" in capsys.readouterr().out


def test_an_empty_module_name_is_refused():
    """Check that the module name is required."""
    with pytest.raises(ValueError):
        check_environment("")


def _hide_modules(monkeypatch, *names):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name in names else real(name, *a))


def test_in_the_repository_the_grading_line_says_hidden_tests_run_too(capsys):
    """Check that, where the reference answers are (the course repository), the line promises the hidden tests."""
    check_environment("01_latency", packages=())
    printed = capsys.readouterr().out
    assert "hidden tests too" in printed and "Visible tests only" not in printed, printed


def test_in_the_student_bundle_the_grading_line_says_visible_tests_only(monkeypatch, capsys):
    """Check that without the reference answers (the student bundle) the line says what it can grade."""
    _hide_modules(monkeypatch, "autograde.reference")
    check_environment("01_latency", packages=())
    printed = capsys.readouterr().out
    assert "Visible tests only; hidden tests run when your instructor grades" in printed, printed
    assert "hidden tests too" not in printed, printed
    assert printed.strip().splitlines()[-1].strip().endswith("-m autograde grade 01_latency.ipynb"), printed


def test_without_the_course_installed_it_says_how_to_install_it_instead(monkeypatch, capsys):
    """Check that a Python that cannot import autograde is not handed a grading line that would fail."""
    _hide_modules(monkeypatch, "autograde")
    check_environment("01_latency", packages=())
    printed = capsys.readouterr().out
    assert "-m autograde grade" not in printed, printed
    assert f"{shlex.quote(sys.executable)} -m pip install -e ." in printed, printed
