"""A learner in JupyterLab: the start page, a module run from the top, the tests' messages, the
figures, and nbgrader's Validate button."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lab_ui import NOTEBOOK, error_texts, open_notebook, rendered_images, run_all_cells, save, shot, validate
from submissions import Mutant, answer_sources, mutant_submission, write_submission

from autograde.layout import assignments, release_notebook, source_notebook
from autograde.notebook import cell_role, nbgrader_meta

MODULE_01 = "01-requirements-estimation"
# A typical mistake (tests/modules/test_01_requirements_estimation.py has it too): the peak divided by the factor.
PEAK_DIVIDED = Mutant("peak_rps", "* peak_factor", "/ peak_factor")


def learner_copy(lab, assignment: str, kind: str) -> tuple[str, Path]:
    """A notebook in the served course as a learner would have it: 'solved', 'wrong' or 'blank'."""
    relative = f"{assignment}/{assignment}-{kind}.ipynb"
    path = lab.notebooks / relative
    if kind == "solved":
        write_submission(assignment, path, answer_sources(source_notebook(assignment)))
    elif kind == "wrong":
        mutant_submission(assignment, PEAK_DIVIDED, path)
    else:
        path.write_bytes(release_notebook(assignment).read_bytes())
    return relative, path


def test_the_course_opens_on_its_start_page_with_every_module(page, lab):
    page.goto(lab.url(""))  # what `make course` prints: the server's default URL
    page.locator(f"{NOTEBOOK} .jp-RenderedMarkdown h1").first.wait_for()
    assert page.url.split("?")[0].endswith("/lab/tree/START-HERE.ipynb")
    links = page.eval_on_selector_all(f"{NOTEBOOK} .jp-RenderedMarkdown a", "as => as.map(a => a.getAttribute('href'))")
    # JupyterLab rewrites a relative link to the file's URL: /files/<path>?_xsrf=...
    modules = [link.split("?")[0].split("/files/", 1)[1] for link in links if link and "/files/" in link]
    assert modules == [f"{name}/{name}.ipynb" for name in assignments()], links
    # no pop-up asking about Jupyter news (lab-settings/overrides.json)
    assert page.locator(".Toastify__toast").count() == 0, page.locator(".Toastify__toast").all_text_contents()
    shot(page, "learner-start-page")
    page.locator(f"{NOTEBOOK} .jp-RenderedMarkdown a", has_text="03").first.click()
    page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-RenderedMarkdown h1", has_text="03").first.wait_for()


@pytest.mark.parametrize("assignment", assignments())
def test_a_solved_module_runs_from_the_top_and_draws_its_figures(page, lab, assignment):
    relative, path = learner_copy(lab, assignment, "solved")
    open_notebook(page, lab, relative)
    run_all_cells(page)
    saved = save(page, path)

    problems = []
    code_cells = [c for c in saved["cells"] if c["cell_type"] == "code"]
    for index, cell in enumerate(code_cells):
        where = f"code cell {index + 1} ({nbgrader_meta(cell).get('grade_id', 'no grade id')})"
        if cell.get("execution_count") is None:
            problems.append(f"{where} did not run")
        for out in cell.get("outputs", []):
            if out["output_type"] == "error":
                problems.append(f"{where} raised {out['ename']}: {out['evalue'][:300]}")
            elif out["output_type"] == "stream" and out["name"] == "stderr":
                problems.append(f"{where} wrote to stderr: {''.join(out['text'])[:300]}")
        if cell_role(cell) == "tests":
            printed = "".join("".join(o.get("text", "")) for o in cell.get("outputs", []) if o["output_type"] == "stream")
            if "passed" not in printed:
                problems.append(f"{where} is a test cell that passed silently (a learner sees no 'passed' line)")
    assert not problems, f"{assignment}, our solution run in JupyterLab:\n  " + "\n  ".join(problems)

    figures = sum(1 for c in code_cells for o in c.get("outputs", []) if "image/png" in o.get("data", {}))
    assert figures >= 1, f"{assignment} draws no figure"
    images = rendered_images(page)
    assert len(images) == figures, f"{figures} figures in the notebook, {len(images)} shown in the page"
    for number, image in enumerate(images, start=1):
        assert image["complete"] and image["natural_width"] > 0, f"figure {number} did not render: {image}"
        assert 300 <= image["natural_width"] <= 1600, f"figure {number} is {image['natural_width']} px wide: {image}"
        assert image["shown_width"] <= image["area_width"] + 1, f"figure {number} overflows its output: {image}"
    first_figure = page.locator(f"{NOTEBOOK} .jp-CodeCell", has=page.locator(".jp-RenderedImage")).first
    shot(first_figure, f"learner-{assignment}-first-figure")


@pytest.mark.parametrize("kind, says", [
    ("blank", "got:      raised NotImplementedError (not implemented yet)"),
    ("wrong", "got:      33.333333333333336"),
])
def test_a_failing_test_shows_input_expected_got_and_replay_not_a_traceback(page, lab, kind, says):
    relative, _ = learner_copy(lab, MODULE_01, kind)
    open_notebook(page, lab, relative)
    run_all_cells(page)  # stops at the first failing test cell, as Jupyter does
    errors = error_texts(page)
    assert len(errors) == 1, errors
    message = errors[0]
    for part in ("VerdictFailure:", "input:", "expected:", says, "replay:"):
        assert part in message, f"{part!r} missing from what the learner sees:\n{message}"
    for noise in ("Traceback", "verdict.py", "---------"):
        assert noise not in message, f"{noise!r} in what the learner sees:\n{message}"
    failing_cell = page.locator(f"{NOTEBOOK} .jp-CodeCell",
                                has=page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"))
    shot(failing_cell.first, f"learner-{kind}-answer-message")


@pytest.mark.parametrize("kind, says", [
    ("solved", "Success! Your notebook passes all the tests."),
    ("wrong", "peak_rps: result differs: expected 300.0, got 33.333333333333336"),
])
def test_validate_runs_the_notebook_and_names_the_failing_test(page, lab, kind, says):
    relative, _ = learner_copy(lab, MODULE_01, kind)
    open_notebook(page, lab, relative)
    text = validate(page)
    assert says in text, text
    assert "Traceback" not in text and "verdict.py" not in text, text
    shot(page, f"learner-validate-{kind}")


def test_grading_yourself_with_the_command_the_notebook_prints_works_in_jupyterlabs_terminal(page, lab):
    """The environment check prints a line to paste into File > New > Terminal; pasted, it grades."""
    relative = f"{MODULE_01}/{MODULE_01}.ipynb"  # the printed command names the module's own notebook
    write_submission(MODULE_01, lab.notebooks / relative, answer_sources(source_notebook(MODULE_01)))
    open_notebook(page, lab, relative)
    run_all_cells(page)
    printed = page.locator(f"{NOTEBOOK} .jp-OutputArea-output").first.text_content()
    command = printed.strip().splitlines()[-1].strip()
    assert " -m autograde grade " in command, printed
    result = lab.course_dir / "graded.json"
    page.locator(".lm-MenuBar-itemLabel", has_text="File").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="New").first.hover()
    page.locator(".lm-Menu-itemLabel", has_text="Terminal").first.click()
    terminal = page.locator(".jp-Terminal:not(.lm-mod-hidden) .xterm").first
    terminal.wait_for()
    page.wait_for_timeout(1000)  # the shell's prompt
    terminal.click()
    page.keyboard.type(f"{command} --json > {result}; echo done >> {result}")
    page.keyboard.press("Enter")
    for _ in range(900):
        if result.is_file() and result.read_text().endswith("done\n"):
            break
        page.wait_for_timeout(100)
    text = result.read_text() if result.is_file() else "(nothing written)"
    shot(page, "learner-terminal-grade")
    report = json.loads(text.removesuffix("done\n"))
    assert report["score"] == report["max_score"] == 14, text[:2000]
