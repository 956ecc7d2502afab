"""The class through the browser: JupyterHub on loopback (deploy/jupyterhub/jupyterhub_config.py), two
students and the instructor logged in with their passwords, driven by Playwright and the system's Chromium.

The instructor generates and releases module 01 from the formgrader; both students fetch it from the
Assignments tab, type their answer to `peak_rps` in the notebook (alice the right one, bob the typical
mistake; the other answers were filled in beforehand, as if typed earlier), save and submit; the
instructor collects from the formgrader, grades with the hardened grader from a terminal (as root:
deploy/jupyterhub/grade_class.py), generates and releases feedback from the formgrader; each student
fetches and opens their own feedback. Bob then tries alice's server and files, and the formgrader, and
is refused. Screenshots of each step go to artifacts/screenshots/hub-*.png.

Skipped without Chromium or Playwright (as tests/browser are) or without what tests/deploy/conftest.py
needs; .ci/run requires both.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from grade_class import grade
from submissions import answer_sources, write_submission

from autograde.layout import source_notebook
from autograde.notebook import nbgrader_meta

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "tests" / "browser"))
from lab_ui import NOTEBOOK, save, shot  # noqa: E402

HUB_TAG = "b"
A = "01-requirements-estimation"
ANSWER_CELL = "peak_rps"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _why_no_browser() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (`make setup` installs it)"
    if not any(shutil.which(name) for name in ("chromium", "chromium-browser")) and not os.environ.get("COURSE_CHROMIUM"):
        return "no Chromium on PATH (apt-get install chromium)"
    return None


NO_BROWSER = _why_no_browser()
pytestmark = pytest.mark.skipif(NO_BROWSER is not None and os.environ.get("COURSE_REQUIRE_BROWSER") != "1",
                                reason=f"hub browser test skipped: {NO_BROWSER}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Hub:
    def __init__(self, hub_class, port: int, log: Path):
        self.cls, self.port, self.log = hub_class, port, log

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}"


@pytest.fixture(scope="module")
def hub(hub_class, tmp_path_factory):
    if NO_BROWSER is not None:
        pytest.fail(f"COURSE_REQUIRE_BROWSER=1 but the hub browser test cannot run: {NO_BROWSER}")
    port, api, proxy_api = _free_port(), _free_port(), _free_port()
    log = tmp_path_factory.mktemp("hub") / "jupyterhub.log"
    env = os.environ | {"COURSE_HUB_BASE": str(hub_class.base), "COURSE_HUB_PORT": str(port),
                        "COURSE_HUB_API_PORT": str(api), "COURSE_HUB_PROXY_API_PORT": str(proxy_api),
                        "CONFIGPROXY_AUTH_TOKEN": secrets.token_hex(16)}
    command = [str(Path(sys.executable).parent / "jupyterhub"), "-f",
               str(REPO_ROOT / "deploy" / "jupyterhub" / "jupyterhub_config.py")]
    with open(log, "w") as out:
        server = subprocess.Popen(command, cwd=hub_class.base / "hub", env=env, stdout=out, stderr=subprocess.STDOUT)
    running = Hub(hub_class, port, log)
    try:
        deadline = time.monotonic() + 120
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"JupyterHub exited with {server.returncode}:\n{log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(running.url("hub/health"), timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"JupyterHub did not answer within 120 s:\n{log.read_text()[-3000:]}") from None
                time.sleep(0.5)
        yield running
    finally:
        server.send_signal(2)  # Ctrl-C: the hub stops the proxy and every user's server (cleanup_servers)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def chromium() -> str:
    configured = os.environ.get("COURSE_CHROMIUM")
    return configured or shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def chrome(hub, playwright_driver):
    launched = playwright_driver.chromium.launch(executable_path=chromium(), headless=True, args=CHROMIUM_ARGS)
    try:
        yield launched
    finally:
        launched.close()


def log_in(chrome, hub: Hub, user: str):
    """A browser of its own for ``user`` (its own cookies), logged in through the hub's login form."""
    context = chrome.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(90_000)
    page.goto(hub.url("hub/login"))
    page.fill("input#username_input", user)
    page.fill("input#password_input", hub.cls.passwords[user])
    page.click("input#login_submit")
    page.wait_for_url(f"**/user/{user}/lab**", timeout=180_000)
    page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").first.wait_for()
    return page


def formgrader_action(page, column: str) -> str:
    """Click a formgrader button in module 01's row (column: assign, release, collect, generate-feedback,
    release-feedback), answer its dialogs, and return what they said."""
    page.locator("table tbody tr", has_text=A).locator(f"td.{column} a").first.click()
    said = []
    for _ in range(3):  # a confirmation, then the result
        dialog = page.locator(".modal-dialog:visible").first
        try:
            dialog.wait_for(timeout=180_000 if not said else 5_000)
        except Exception:
            break
        page.wait_for_timeout(300)
        said.append(dialog.text_content().strip())
        buttons = dialog.locator(".modal-footer button")
        buttons.nth(buttons.count() - 1).click()  # the dialog's main button: OK, Close, or go ahead
        page.wait_for_timeout(700)
    return "\n".join(said)


def open_assignments(page) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Assignment List").first.click()
    page.locator("#released_assignments_list").first.wait_for()


def prefill_other_answers(hub, student: str) -> Path:
    """Every answer of module 01 but the one typed in the browser, as if the student had typed them earlier."""
    path = hub.cls.home(student) / A / f"{A}.ipynb"
    sources = answer_sources(source_notebook(A))
    fetched = json.loads(path.read_text())
    blank = next("".join(c["source"]) for c in fetched["cells"] if nbgrader_meta(c).get("grade_id") == ANSWER_CELL)
    sources[ANSWER_CELL] = blank
    write_submission(A, path, sources)
    shutil.chown(path, student, student)
    return path


def type_answer(page, path: Path, correct: bool) -> None:
    cells = json.loads(path.read_text())["cells"]
    index = next(i for i, c in enumerate(cells) if nbgrader_meta(c).get("grade_id") == ANSWER_CELL)
    answer = answer_sources(source_notebook(A))[ANSWER_CELL]
    if not correct:
        assert answer.count("* peak_factor") == 1, answer
        answer = answer.replace("* peak_factor", "/ peak_factor")
    # what a student types has no solution markers (answer_sources reads the instructor's source)
    answer = "\n".join(line for line in answer.splitlines() if "### BEGIN SOLUTION" not in line
                       and "### END SOLUTION" not in line)
    editor = page.locator(f"{NOTEBOOK} .jp-Cell").nth(index).locator(".cm-content")
    editor.click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(answer)


@pytest.fixture(scope="module")
def the_class(hub, chrome):
    """The whole class, step by step; each test below checks one part of what it left."""
    cls = hub.cls
    alice, bob, _ = cls.students
    steps = {}
    teacher = log_in(chrome, hub, cls.instructor)
    teacher.goto(hub.url(f"user/{cls.instructor}/formgrader/manage_assignments"))
    teacher.locator("table tbody tr", has_text=A).first.wait_for()
    steps["generate"] = formgrader_action(teacher, "assign")
    steps["release"] = formgrader_action(teacher, "release")
    shot(teacher, "hub-1-instructor-released")

    pages = {}
    for student, correct in ((alice, True), (bob, False)):
        page = pages[student] = log_in(chrome, hub, student)
        open_assignments(page)
        page.locator("#released_assignments_list .list_item", has_text=A).locator("button", has_text="Fetch").click()
        page.locator("#fetched_assignments_list .list_item", has_text=A).first.wait_for()
        if student == alice:
            shot(page, "hub-2-student-fetched")
        path = prefill_other_answers(hub, student)
        page.goto(hub.url(f"user/{student}/lab/tree/{A}/{A}.ipynb?reset"))
        page.locator(f"{NOTEBOOK} .jp-Notebook").first.wait_for()
        type_answer(page, path, correct)
        saved = save(page, path)
        typed = next("".join(c["source"]) for c in saved["cells"] if nbgrader_meta(c).get("grade_id") == ANSWER_CELL)
        steps[f"typed-{student}"] = typed
        shot(page, f"hub-3-{'alice' if correct else 'bob'}-answer")
        open_assignments(page)
        page.locator("#fetched_assignments_list .list_item", has_text=A).locator("button", has_text="Submit").first.click()
        page.locator("#submitted_assignments_list .list_item", has_text=A).first.wait_for()
        shot(page, f"hub-4-{'alice' if correct else 'bob'}-submitted")

    teacher.reload()
    teacher.locator("table tbody tr", has_text=A).first.wait_for()
    steps["collect"] = formgrader_action(teacher, "collect")
    steps["grade"] = grade(A, cls.base, collect=False, feedback=False)  # the terminal step, as root
    teacher.reload()
    teacher.locator("table tbody tr", has_text=A).first.wait_for()
    steps["generate-feedback"] = formgrader_action(teacher, "generate-feedback")
    steps["release-feedback"] = formgrader_action(teacher, "release-feedback")
    teacher.goto(hub.url(f"user/{cls.instructor}/formgrader/manage_submissions/{A}"))
    teacher.locator("table tbody tr", has_text=alice).first.wait_for()
    shot(teacher, "hub-5-instructor-graded")
    header = teacher.eval_on_selector_all("table thead th", "ths => ths.map(th => th.textContent.trim())")
    rows = teacher.eval_on_selector_all("table tbody tr", "rs => rs.map(r => [...r.querySelectorAll('td')].map(td => td.textContent.trim()))")
    steps["formgrader"] = {row[header.index("Student ID")]: row[header.index("Score")] for row in rows if len(row) == len(header)}

    for student in (alice, bob):
        page = pages[student]
        open_assignments(page)
        page.locator("#submitted_assignments_list .list_item", has_text=A).locator("button", has_text="Fetch Feedback").first.click()
        page.locator("#submitted_assignments_list a", has_text="view feedback").first.wait_for()
        feedback = sorted((cls.home(student) / A / "feedback").glob("*/*.html"))
        steps[f"feedback-{student}"] = feedback
        if feedback:
            relative = feedback[0].relative_to(cls.home(student))
            page.goto(hub.url(f"user/{student}/files/{urllib.request.quote(str(relative))}"))
            page.locator("body").first.wait_for()
            steps[f"feedback-text-{student}"] = page.locator("body").text_content()
            shot(page, f"hub-6-{'alice' if student == alice else 'bob'}-feedback")
    yield cls, steps, pages
    for page in [teacher, *pages.values()]:
        page.context.close()


def test_the_instructor_releases_from_the_formgrader(the_class):
    _, steps, _ = the_class
    assert "error" not in steps["release"].lower(), steps["release"]


def test_each_student_types_their_answer_and_submits(the_class):
    cls, steps, _ = the_class
    alice, bob, _ = cls.students
    assert "* peak_factor" in steps[f"typed-{alice}"], steps[f"typed-{alice}"]
    assert "/ peak_factor" in steps[f"typed-{bob}"], steps[f"typed-{bob}"]
    collected = sorted(p.name for p in (cls.course / "grading" / "submitted").iterdir())
    assert collected == sorted([alice, bob]), f"collected: expected alice and bob, got {collected}"


def test_the_hardened_grader_scores_both_and_formgrader_shows_it(the_class):
    cls, steps, _ = the_class
    alice, bob, _ = cls.students
    assert steps["grade"] == 0, f"grade_class exited {steps['grade']}"
    got = steps["formgrader"]
    assert got.get(alice) == "14 / 17" and got.get(bob) == "13 / 17", f"formgrader scores: expected 14 / 17 and 13 / 17, got {got}"


def test_each_student_fetches_and_reads_only_their_own_feedback(the_class):
    cls, steps, _ = the_class
    alice, bob, _ = cls.students
    for student, score in ((alice, "Score: 14.0 / 17.0"), (bob, "Score: 13.0 / 17.0")):
        assert len(steps[f"feedback-{student}"]) == 1, f"{student}'s feedback files: {steps[f'feedback-{student}']}"
        assert score in steps[f"feedback-text-{student}"], f"{student}'s feedback page: expected {score!r}"
    assert "BEGIN HIDDEN TESTS" not in steps[f"feedback-text-{bob}"]


def test_bob_is_refused_alices_server_files_and_the_formgrader(the_class, hub):
    cls, _, pages = the_class
    alice, bob, _ = cls.students
    page = pages[bob]
    tried = {}
    response = page.goto(hub.url(f"user/{alice}/lab"))
    tried["alice's server"] = (response.status, page.url)
    response = page.goto(hub.url(f"user/{alice}/files/{A}/{A}.ipynb"))
    tried["alice's notebook"] = (response.status, page.url)
    shot(page, "hub-7-bob-refused-alices-server")
    response = page.goto(hub.url(f"user/{bob}/formgrader/"))
    tried["formgrader"] = (response.status, page.url)
    response = page.goto(hub.url(f"user/{bob}/api/contents/..%2F{alice}"))
    tried["contents outside his home"] = (response.status, page.url)
    for what, (status, url) in tried.items():
        assert status in (403, 404), f"bob opening {what}: expected 403 or 404, got {status} at {url}"
