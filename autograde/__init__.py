"""The course's grader, on top of nbgrader.

    python -m autograde release            regenerate notebooks/ from solutions/
    python -m autograde grade NB.ipynb     grade one notebook (sandboxed, throwaway workspace)
    python -m autograde check              every solution full marks, every release zero, all in sync
    python -m autograde batch SUBMISSIONS  grade a class into the gradebook and a CSV, resumably
    python -m autograde roster FILE.csv    import a class roster (id, names, email) into the gradebook
    python -m autograde export FORMAT      grades for an LMS: canvas, moodle, or long
    python -m autograde student-bundle Z   what to hand a class, without answers
    python -m autograde contracts [NN-x]   show (or --write) each exercise's contract from its table

Modules: ``layout`` (where things are), ``notebook`` (reading nbgrader cells), ``release``,
``grading`` (rebuild a submission on the source, run it, score it), ``batch``, ``bundle``,
``roster``, ``exports``, ``checks``, ``verdict`` (the one place a test decides pass or fail),
``contracts`` (each graded function's stated rules as data, and the hidden cases they give),
``beside`` (course helpers run fresh next to the learner's code), ``reference`` (the grader's
reference answers and contracts, one module per assignment), and the sandbox: ``isolation``
(namespaces, chroot, uid, limits), ``zygote`` (the pre-warmed forking process), ``runner`` (the
learner's side) and ``sandbox`` (the grader's side: proxies into the learner's process).
"""

__version__ = "0.1.0"
