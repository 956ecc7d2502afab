"""`python -m autograde student-bundle`: what a class gets, and nothing it must not."""

import subprocess
import sys
import zipfile

from autograde.bundle import FORBIDDEN_CONTENT
from autograde.layout import assignments


def test_bundle_has_the_course_and_no_answers(tmp_path):
    out = tmp_path / "class.zip"
    result = subprocess.run([sys.executable, "-m", "autograde", "student-bundle", str(out)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        for name in names:
            content = zf.read(name)
            assert not any(marker.encode() in content for marker in FORBIDDEN_CONTENT), name
    prefix = "system-design-course/"
    for assignment in assignments():
        assert f"{prefix}notebooks/{assignment}/{assignment}.ipynb" in names
    assert f"{prefix}autograde/verdict.py" in names and f"{prefix}course/sim.py" in names
    assert f"{prefix}Makefile" in names and f"{prefix}pyproject.toml" in names
    for secret in ("solutions/", "autograde/reference/", "tests/", ".git/", "grading/", "autograde/grading.py"):
        assert not any(n.startswith(prefix + secret) for n in names), secret
