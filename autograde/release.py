"""Generate the student release (notebooks/) from the instructor source (solutions/).

nbgrader's own ``generate_assignment`` does the work (solutions cleared, hidden tests removed,
cells locked, checksums computed, outputs cleared), in a throwaway course directory with its own
gradebook so that the instructor's gradebook is never touched. The result is byte-for-byte what
``nbgrader generate_assignment`` writes, so both commands agree and a rerun with no change in
solutions/ produces no diff.
"""

from __future__ import annotations

import filecmp
import shutil
import tempfile
from pathlib import Path

from autograde.layout import RELEASE_DIR, SOLUTIONS_DIR, UsageError, assignments, put_environment_on_path

_IGNORED = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__", "*.pyc")


def generate(assignment: str, out_dir: Path) -> Path:
    """Write the release of ``assignment`` to ``out_dir/assignment`` and return that folder."""
    from nbgrader.apps import NbGraderAPI

    put_environment_on_path()
    from traitlets.config import Config

    if assignment not in assignments():
        raise UsageError(f"unknown assignment {assignment!r}; known: {', '.join(assignments()) or 'none'}")
    with tempfile.TemporaryDirectory(prefix="autograde-release-") as tmp:
        root = Path(tmp)
        shutil.copytree(SOLUTIONS_DIR / assignment, root / "source" / assignment, ignore=_IGNORED)
        config = Config()
        config.CourseDirectory.root = str(root)
        config.CourseDirectory.source_directory = "source"
        config.CourseDirectory.release_directory = "release"
        config.CourseDirectory.db_url = f"sqlite:///{root / 'gradebook.db'}"
        config.Exchange.root = str(root / "exchange")
        api = NbGraderAPI(config=config)
        result = api.generate_assignment(assignment, force=True, create=True)
        if not result.get("success"):
            raise RuntimeError(f"nbgrader could not generate {assignment}:\n{result.get('error') or result.get('log')}")
        target = out_dir / assignment
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(root / "release" / assignment, target, ignore=_IGNORED)
    return target


def release_all(names: list[str] | None = None) -> list[str]:
    """Regenerate notebooks/ for the given assignments (all by default); return their names."""
    names = names or assignments()
    RELEASE_DIR.mkdir(exist_ok=True)
    for name in names:
        generate(name, RELEASE_DIR)
    return names


def out_of_sync(assignment: str) -> list[str]:
    """Files that differ between the committed release and a fresh generation (empty if in sync)."""
    with tempfile.TemporaryDirectory(prefix="autograde-sync-") as tmp:
        fresh = generate(assignment, Path(tmp))
        committed = RELEASE_DIR / assignment
        if not committed.is_dir():
            return [f"notebooks/{assignment}/ is missing"]
        return [f"notebooks/{assignment}/{name}" for name in _differences(filecmp.dircmp(fresh, committed))]


def _differences(cmp: filecmp.dircmp, prefix: str = "") -> list[str]:
    diffs = [prefix + n for n in cmp.diff_files + cmp.left_only + cmp.right_only + cmp.funny_files]
    for name, sub in cmp.subdirs.items():
        diffs += _differences(sub, f"{prefix}{name}/")
    return sorted(diffs)
