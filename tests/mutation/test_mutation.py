"""A sample of every module's generated mutants (benchmarks/mutation.py) must be killed by the hidden tests,
or be listed as equivalent, with a reason, in ``tests/mutation/<module>.tsv``; and every listed equivalent
must still be a mutant the operators generate (no stale entries). The full campaign, with per-module
scores, is ``python benchmarks/mutation.py``; CI grades ``SAMPLE`` mutants per module, the same ones on
every run unless ``MUTATION_SAMPLE_SEED`` says otherwise (set it to rotate the sample)."""

from __future__ import annotations

import importlib.util
import os
import random
import re
import sys
from pathlib import Path

import pytest

from autograde.layout import REPO_ROOT, assignments

SAMPLE = 2
SEED = os.environ.get("MUTATION_SAMPLE_SEED", "ci")

_spec = importlib.util.spec_from_file_location("mutation", REPO_ROOT / "benchmarks" / "mutation.py")
mutation = importlib.util.module_from_spec(_spec)
sys.modules["mutation"] = mutation  # dataclasses look their module up there
_spec.loader.exec_module(mutation)


@pytest.fixture(scope="module")
def sampled():
    """``{module: [(spec, report)]}``: SAMPLE mutants per module, graded in one go."""
    chosen = {}
    for name in assignments():
        specs = mutation.mutants_of(name)
        chosen[name] = random.Random(f"{SEED}:{name}").sample(specs, min(SAMPLE, len(specs)))
    return {name: mutation.grade_mutants(name, specs) for name, specs in chosen.items()}


@pytest.mark.parametrize("name", assignments())
def test_sampled_mutants_are_killed_or_listed_as_equivalent(sampled, name):
    known = mutation.equivalents(name)
    survivors = [spec for spec, report in sampled[name] if not mutation.killed(report)]
    unexplained = ["\t".join(spec.key) for spec in survivors if spec.key not in known]
    assert not unexplained, (f"{name}: mutants that no hidden test kills (add a hidden case that does, or list them "
                             f"in tests/mutation/{name}.tsv with why they are equivalent; replay with "
                             f"MUTATION_SAMPLE_SEED={SEED}):\n" + "\n".join(unexplained))


@pytest.mark.parametrize("name", assignments())
def test_listed_equivalents_are_generated_mutants_with_a_reason(name):
    known = mutation.equivalents(name)  # raises on a row without a reason
    keys = {spec.key for spec in mutation.mutants_of(name)}
    stale = [k for k in known if k not in keys]
    assert not stale, f"tests/mutation/{name}.tsv lists mutants the operators no longer generate: {stale}"


def test_an_equivalents_file_without_reasons_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(mutation, "EQUIVALENT_DIR", tmp_path)
    Path(tmp_path / "x.tsv").write_text("cell\top\tbefore\tafter\t\n")
    with pytest.raises(ValueError, match="reason"):
        mutation.equivalents("x")


def test_the_operators_make_the_mistakes_they_name():
    """Each operator changes what it says on a small function (so a campaign's figures mean what they say)."""
    import ast

    source = '''
import math, copy, threading
def f(xs, n, lock):
    if n < 0:
        raise ValueError("n")
    with lock:
        ys = sorted(copy.deepcopy(xs), key=len)
    return math.ceil(n / 2) + min(n, 1)
'''
    tree = ast.parse(source)
    made = {}
    for operator, node, change in mutation._candidates(tree):
        made.setdefault(operator, []).append(ast.unparse(mutation._apply(tree, node, change)))
    assert any("n <= 0" in m for m in made["flip comparison"])
    assert any("raise" not in m for m in made["remove raise"])
    assert any("nullcontext" in m for m in made["remove lock"])
    assert any("sorted(xs" in m for m in made["remove copy"])
    assert any("math.floor(n / 2)" in m for m in made["swap rounding"])
    assert any("round(n / 2)" in m for m in made["swap rounding"])
    assert any("reverse=True" in m for m in made["sort reversed"])
    assert any("str(len(_v))" in m for m in made["sort key made a string"])
    assert any("max(n, 1)" in m for m in made["min/max swapped"])
    assert any("n < 1" in m for m in made["constant off by one"])
    assert not any(re.search(r"ValueError\((?!'n'\))", m) for ms in made.values() for m in ms), \
        "an error's message is not behaviour: no operator changes it"
