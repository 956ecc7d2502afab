"""Run a course helper next to the learner's code, fresh from the course's own files.

A test cell runs in the grader, and reaches the learner's process only for names that answer cells
define. A few checks must run *next to* the learner's code: threads racing on the learner's object,
a probe of whether the learner's function changed its argument in place, a clock or a store the
learner's class is handed. Such a helper is imported in the test cell, from ``course``, and wrapped:

    from autograde.beside import beside_learner
    from course.resilience import hammer_bulkhead
    report = beside_learner(hammer_bulkhead)(Bulkhead, limits)

While the grader runs a test cell, ``beside_learner`` sends the source of the helper's module (read
here, from the course as the grader has it) to the learner's process, which runs it as a new module
that no name in the learner's namespace refers to, and returns that copy's helper. So an answer cell
that defines its own ``hammer_bulkhead`` or changes ``course.resilience`` changes nothing the test
uses. In a learner's own Jupyter kernel (visible tests), there is no grader: it returns the helper
itself, which already runs next to the learner's code.

What it cannot stop: the fresh copy still imports the standard library and other ``course`` modules
from the learner's process, which the learner's code could have changed. So checks that run beside
the learner carry few points, and compare with the reference where the result is deterministic.
"""

from __future__ import annotations

from typing import Any

_learner = None  # the grader sets this to the LearnerProcess while one of its test cells runs


def beside_learner(helper: Any) -> Any:
    """``helper`` (a function or class defined at the top level of a ``course`` module), fresh in the
    learner's process when graded; ``helper`` itself otherwise."""
    if _learner is None:
        return helper
    module = getattr(helper, "__module__", "") or ""
    if not (module == "course" or module.startswith("course.")) or "." in getattr(helper, "__qualname__", "."):
        raise TypeError(f"beside_learner takes a top-level function or class of a course module, not {helper!r}")
    return _learner.fresh(module, helper.__qualname__)


class grading_beside:
    """Context manager the grader uses around one test cell."""

    def __init__(self, learner):
        self.learner = learner

    def __enter__(self):
        global _learner
        self.previous, _learner = _learner, self.learner
        return self

    def __exit__(self, *exc):
        global _learner
        _learner = self.previous
        return False
