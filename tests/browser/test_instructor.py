"""An instructor in formgrader: the course's assignments, and a class graded by `autograde batch`."""

from __future__ import annotations

import pytest
from lab_ui import shot
from submissions import Mutant, answer_sources, mutant_submission, write_submission

from autograde.batch import run_batch
from autograde.layout import assignments, source_notebook

ASSIGNMENT = "01-requirements-estimation"


@pytest.fixture(scope="module")
def graded_class(lab, tmp_path_factory):
    """Two students' notebooks in a flat folder, batch-graded into the served course's grading/."""
    folder = tmp_path_factory.mktemp("class")
    write_submission(ASSIGNMENT, folder / f"alice_{ASSIGNMENT}.ipynb", answer_sources(source_notebook(ASSIGNMENT)))
    mutant_submission(ASSIGNMENT, Mutant("peak_rps", "* peak_factor", "/ peak_factor"), folder / f"bob_{ASSIGNMENT}.ipynb")
    summary = run_batch(folder, workers=2, workspace=lab.course_dir / "grading")
    assert summary.graded == 2 and not summary.unusable and not summary.faults, summary
    return lab


def log_in(page, lab) -> None:
    """Open JupyterLab with the token, as an instructor does before Nbgrader > Formgrader.

    (Opening a formgrader page directly with ?token= sets the login cookie for that page's folder
    only, and formgrader's own API calls are then redirected to the login page.)
    """
    page.goto(lab.url("lab?reset"))
    page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").first.wait_for()


def table_rows(page, loaded_when: str) -> list[list[str]]:
    """The cells of formgrader's table, once a row containing ``loaded_when`` is there (it loads by script)."""
    page.locator("table tbody tr", has_text=loaded_when).first.wait_for()
    return page.eval_on_selector_all(
        "table tbody tr", "rows => rows.map(r => [...r.querySelectorAll('td')].map(td => td.textContent.trim()))")


def test_formgrader_opens_from_the_menu_and_lists_every_assignment_with_its_submissions(page, graded_class):
    log_in(page, graded_class)
    page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Formgrader").first.click()
    formgrader = page.frame_locator("iframe").first
    formgrader.locator("table tbody tr", has_text=ASSIGNMENT).first.wait_for()
    shot(page, "instructor-formgrader-in-jupyterlab")
    frame = next(f for f in page.frames if "/formgrader" in f.url)
    rows = {row[0]: row for row in table_rows(frame, ASSIGNMENT) if row and row[0] in assignments()}
    assert sorted(rows) == assignments(), rows
    header = frame.eval_on_selector_all("table thead th", "ths => ths.map(th => th.textContent.trim())")
    count = header.index("# Submissions")
    assert rows[ASSIGNMENT][count] == "2", rows[ASSIGNMENT]
    assert all(rows[name][count] == "0" for name in assignments() if name != ASSIGNMENT)


def test_formgrader_shows_each_autograded_submission_with_its_score(page, graded_class):
    log_in(page, graded_class)
    page.goto(graded_class.url(f"formgrader/manage_submissions/{ASSIGNMENT}"))
    header = page.eval_on_selector_all("table thead th", "ths => ths.map(th => th.textContent.trim())")
    rows = {row[header.index("Student ID")]: row for row in table_rows(page, "alice")}
    assert sorted(rows) == ["alice", "bob"], rows
    # 14 automatic points of 14, plus 3 for the written answer that waits for a person
    assert rows["alice"][header.index("Score")] == "14 / 17", rows["alice"]
    assert rows["bob"][header.index("Score")] == "13 / 17", rows["bob"]
    for row in rows.values():
        assert row[header.index("Status")] == "needs manual grading", row
        assert row[header.index("Timestamp")] not in ("", "None"), row
    shot(page, "instructor-formgrader-submissions")


def test_manual_grading_opens_a_submission_with_its_test_messages(page, graded_class):
    log_in(page, graded_class)
    page.goto(graded_class.url(f"formgrader/gradebook/{ASSIGNMENT}/{ASSIGNMENT}"))
    rows = table_rows(page, "Submission")
    assert len(rows) == 2, rows
    page.locator("table tbody tr a", has_text="Submission").first.click()
    page.locator(".cell").first.wait_for()
    text = page.locator("body").text_content()
    # the grader's message under each test cell, and a score box for the written answer
    assert "passed" in text or "VerdictFailure" in text, text[:3000]
    assert page.locator("input.score").count() >= 1
    shot(page, "instructor-manual-grading")
