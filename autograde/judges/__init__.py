"""Judges the visible tests use: shipped to students in ``python -m autograde student-bundle``.

A judge here is a property check for ``autograde.verdict.check_property`` (it receives the
learner's result as plain data and returns None when it is acceptable, else a sentence saying what
is wrong), or a judge over literal data that the test cell passes in (``one_of``, a table of
results computed once with the reference). What belongs here reveals no solution: it states
what a right answer looks like ("each server's share stays within 1 of its weight"), never how to
compute one. A judge that runs the reference answer internally (a model of the exercise's class,
a reference simulation) stays in ``autograde.reference``, which students never get; the visible
tests that need it use literal expected values instead.

Visible test code imports from here, ``autograde.verdict`` and ``course``, never from
``autograde.reference`` (``python -m autograde check`` enforces it). The reference modules
import their property judges from here, so hidden and visible tests judge alike. One module per
assignment, named like its reference module; ``common`` holds judges every module may use.
"""
