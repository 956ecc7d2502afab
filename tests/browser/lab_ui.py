"""What the browser tests do in JupyterLab, as a person would: open, run, save, validate, look."""

from __future__ import annotations

import json
import time
from pathlib import Path

SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
# The notebook on screen (JupyterLab keeps other panels in the DOM, hidden).
NOTEBOOK = ".jp-NotebookPanel:not(.lm-mod-hidden)"
RUN_TIMEOUT_MS = 180_000


def open_notebook(page, lab, relative: str) -> None:
    """Open a notebook in a fresh workspace (``reset``: no tabs restored from an earlier test)."""
    page.goto(lab.url(f"lab/tree/{relative}?reset"))
    page.locator(f"{NOTEBOOK} .jp-Notebook").first.wait_for()
    page.locator(f"{NOTEBOOK} .jp-Notebook-ExecutionIndicator[data-status='idle']").first.wait_for(timeout=120_000)


RUN_STATE = f"""() => ({{
    prompts: [...document.querySelectorAll('{NOTEBOOK} .jp-CodeCell .jp-InputPrompt')].map(p => p.textContent.trim()),
    kernel: [...document.querySelectorAll('{NOTEBOOK} .jp-Notebook-ExecutionIndicator')].map(i => i.dataset.status),
}})"""


def close_kernel_dialog(page, within_seconds: float = 90) -> None:
    """A loaded machine can make JupyterLab ask which kernel to use, or say that the kernel is restarting;
    such a dialog takes every click. Accept each one (a second may follow the first) until none is left;
    any other dialog, or kernel dialogs that keep coming for ``within_seconds``, is a failure that says
    what every dialog said."""
    dialog = page.locator(".jp-Dialog")
    seen: list[str] = []
    deadline = time.monotonic() + within_seconds
    while time.monotonic() < deadline:
        if not dialog.count() or not dialog.first.is_visible():
            return
        try:
            text = dialog.first.inner_text(timeout=5_000)
        except Exception:  # it closed while we read it
            continue
        if "kernel" not in text.lower():
            raise AssertionError(f"a dialog stood in the way: {text!r}")
        if not seen or seen[-1] != text:
            seen.append(text)
        try:
            dialog.first.locator(".jp-mod-accept").first.click(timeout=5_000)
        except Exception:  # replaced by the next dialog, or its button not yet enabled: look again
            pass
        page.wait_for_timeout(500)
    raise AssertionError(f"kernel dialogs kept coming for {within_seconds:g} s; they said: {seen!r}")


def run_all_cells(page) -> None:
    """Run > Run All Cells, then wait until the kernel is idle and no cell is still queued or running.

    A run that stops at an error leaves the later cells at [ ]: that is finished too. A menu click
    that JupyterLab ignores (the notebook not yet focused) is retried, so a lost click is not a failure.
    """
    started = f"""() => ({RUN_STATE})().prompts.some(p => p !== '[ ]:')"""
    for attempt in range(3):
        close_kernel_dialog(page)
        try:
            page.locator(f"{NOTEBOOK} .jp-Notebook").first.click(position={"x": 3, "y": 3}, timeout=15_000)
        except Exception:  # a dialog that opened meanwhile took the click: look again
            continue
        page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
        page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
        try:
            page.wait_for_function(started, timeout=15_000, polling=250)
            break
        except Exception:
            page.keyboard.press("Escape")  # close the menu if it is still open
    finished = f"""() => {{
        const state = ({RUN_STATE})();
        return state.prompts.length > 0 && !state.prompts.includes('[*]:')
            && state.prompts.some(p => /^\\[\\d+\\]:$/.test(p)) && state.kernel.includes('idle');
    }}"""
    try:
        page.wait_for_function(finished, timeout=RUN_TIMEOUT_MS, polling=500)
    except Exception as error:  # say where the run was, not only that it timed out
        raise AssertionError(f"Run All did not finish in {RUN_TIMEOUT_MS / 1000:.0f} s: "
                             f"{page.evaluate(RUN_STATE)}") from error


def save(page, path: Path) -> dict:
    """Ctrl+S, wait until the file on disk has changed, and return the saved notebook."""
    before = path.stat().st_mtime_ns
    page.locator(f"{NOTEBOOK} .jp-Notebook").first.focus()
    page.keyboard.press("Control+s")
    for _ in range(150):
        if path.stat().st_mtime_ns != before:
            page.wait_for_timeout(200)  # the write is not atomic: let it finish
            return json.loads(path.read_text())
        page.wait_for_timeout(100)
    raise AssertionError(f"{path.name} was not saved within 15 s of Ctrl+S")


def validate(page) -> str:
    """Click nbgrader's Validate button and return the text of the dialog it opens."""
    page.get_by_role("button", name="Validate").first.click()
    dialog = page.locator(".jp-Dialog")
    dialog.wait_for(timeout=RUN_TIMEOUT_MS)
    page.wait_for_timeout(300)
    return dialog.text_content()


def rendered_images(page) -> list[dict]:
    """Every image in the notebook's outputs: its pixel size, and its width against its output area."""
    return page.eval_on_selector_all(
        f"{NOTEBOOK} .jp-RenderedImage img",
        """imgs => imgs.map(img => ({
            natural_width: img.naturalWidth, natural_height: img.naturalHeight, complete: img.complete,
            shown_width: img.getBoundingClientRect().width,
            area_width: img.closest('.jp-OutputArea-output').getBoundingClientRect().width}))""")


def error_texts(page) -> list[str]:
    """What the learner reads in red under the cells."""
    return page.eval_on_selector_all(
        f"{NOTEBOOK} .jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']",
        "els => els.map(e => e.textContent)")


def shot(target, name: str) -> Path:
    """Save a screenshot of a page or of one element as artifacts/screenshots/NAME.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    if hasattr(target, "scroll_into_view_if_needed"):
        target.scroll_into_view_if_needed()
    target.screenshot(path=path)
    return path
