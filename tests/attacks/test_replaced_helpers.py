"""Issue 18, item 1: an answer cell that replaces a helper a provided cell imported cannot decide its
own verdict. Test cells reach in the learner's process only the names answer cells define; the
helpers that must run next to the learner's code are sent there fresh by the grader
(``autograde.beside.beside_learner``), so the learner's own definitions of them are never called.

Before the fix, module 09's solution with two mutants scored 13/20, and 20/20 once its answer cell
also defined ``store_copy_probe`` and ``mutation_probe`` to say "all good"; a lock-free bulkhead
scored full marks once ``hammer_bulkhead`` was redefined to serialise the calls.
"""

from __future__ import annotations

from submissions import answer_sources, grade_all, write_submission

from autograde.layout import source_notebook

FAKE_PROBES = '''

def store_copy_probe(store_class):   # "all good", whatever the store does
    return {"after editing the appended events": "history unchanged",
            "after editing what read returned": "history unchanged",
            "after editing what read_all returned": "history unchanged"}


def mutation_probe(fn, args):        # "nothing changed in place", whatever fn does
    fn(*[__import__("copy").deepcopy(a) for a in args])
    return []
'''

SERIALISING_HAMMER = '''

import threading as _threading

_real_hammer = globals().get("hammer_bulkhead")
_one_at_a_time = _threading.Lock()


def hammer_bulkhead(cls, limits, threads=8, rounds=40, seed=0):   # serialise every call: no race can show
    class Serial(cls):
        def try_acquire(self, dep):
            with _one_at_a_time:
                return super().try_acquire(dep)

        def release(self, dep):
            with _one_at_a_time:
                return super().release(dep)
    return _real_hammer(Serial, limits, threads, rounds, seed)
'''


def _with(assignment: str, cell: str, old: str, new: str, appended: str) -> dict[str, str]:
    sources = answer_sources(source_notebook(assignment))
    assert sources[cell].count(old) == 1
    sources[cell] = sources[cell].replace(old, new) + appended
    return sources


def test_replacing_provided_helpers_decides_nothing(tmp_path):
    es = "09-event-sourcing"
    store_cell = _with(es, "event_store", "return [copy.deepcopy(r) for r in self._streams.get(",
                       "return [r for r in self._streams.get(", FAKE_PROBES)
    apply_cell = _with(es, "apply_event", "    new = copy.deepcopy(state)\n", "    new = dict(state)\n", "")
    sources = {**store_cell, "apply_event": apply_cell["apply_event"]}
    rs = "08-resilience"
    bulkhead = _with(rs, "bulkhead", "        self.lock = threading.Lock()\n",
                     "        self.lock = __import__(\"contextlib\").nullcontext()\n", SERIALISING_HAMMER)
    paths = {"probes_faked": write_submission(es, tmp_path / "probes.ipynb", sources),
             "hammer_faked": write_submission(rs, tmp_path / "hammer.ipynb", bulkhead)}
    reports = grade_all(paths)

    lost = {t.id: t.status for t in reports["probes_faked"].tests if t.points < t.max_points}
    assert {"correct_event_store", "correct_apply_event"} <= set(lost), reports["probes_faked"].table()
    assert all(status == "fail" for status in lost.values()), reports["probes_faked"].table()

    lost = {t.id: t.status for t in reports["hammer_faked"].tests if t.points < t.max_points}
    assert set(lost) == {"correct_bulkhead"}, reports["hammer_faked"].table()
