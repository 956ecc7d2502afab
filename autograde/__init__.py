"""The course's grader, on top of nbgrader.

    python -m autograde release            regenerate notebooks/ from solutions/
    python -m autograde grade NB.ipynb     grade one notebook (sandboxed, throwaway workspace)
    python -m autograde check              every solution full marks, every release zero, all in sync
    python -m autograde batch SUBMISSIONS  grade a class into the gradebook and a CSV, resumably
    python -m autograde student-bundle Z   what to hand a class, without answers

Modules: ``layout`` (where things are), ``notebook`` (reading nbgrader cells), ``release``,
``grading`` (rebuild a submission on the source, run it, score it), ``batch``, ``bundle``,
``checks``, ``verdict`` (the one place a test decides pass or fail), ``reference`` (the grader's
reference answers and seeded cases, one module per assignment), and the sandbox: ``isolation``
(namespaces, chroot, uid, limits), ``zygote`` (the pre-warmed forking process), ``runner`` (the
learner's side) and ``sandbox`` (the grader's side: proxies into the learner's process).
"""

__version__ = "0.1.0"
