"""The course's grader, on top of nbgrader.

    python -m autograde release        regenerate notebooks/ from solutions/
    python -m autograde grade NB.ipynb grade one notebook in a throwaway workspace
    python -m autograde check          every solution full marks, every release zero, all in sync

Modules: ``layout`` (where things are), ``notebook`` (reading nbgrader cells), ``release``,
``grading``, ``checks``, ``verdict`` (the one place a test decides pass or fail), ``reference``
(the grader's reference answers and seeded cases, one module per assignment), ``cli``.
"""

__version__ = "0.1.0"
