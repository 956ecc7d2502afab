"""What setting up the student bundle costs a learner: a fresh virtual environment made from the unzipped
bundle by its own install line, timed, with its size and package count.

    python benchmarks/bundle_venv.py [--zip class.zip] [--install "-e ."] [--keep]

Builds the bundle (or takes ``--zip``), unzips it into a temporary folder, runs ``python -m venv .venv``
and ``.venv/bin/python -m pip install <install>`` there (pip may use its local cache and the machine's
configured wheel folders, as a learner's second install would), then prints the seconds each step took,
the size of ``.venv`` and how many distributions it holds. Prints figures; asserts nothing. Without
``--install`` it uses the install line of the bundle's own README (``pip install -e .``).
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def folder_bytes(path: Path) -> int:
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--zip", help="a student bundle (default: build one now)")
    parser.add_argument("--install", default="-e .", help="what to pip install in the bundle (default '-e .')")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder and print its path")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bundle-venv-"))
    try:
        zip_path = Path(args.zip) if args.zip else tmp / "class.zip"
        if not args.zip:
            from autograde.bundle import write_bundle

            write_bundle(zip_path)
        with zipfile.ZipFile(zip_path) as zf:
            zf.extractall(tmp / "class")
        root = next((tmp / "class").iterdir())
        started = time.monotonic()
        subprocess.run([sys.executable, "-m", "venv", ".venv"], cwd=root, check=True)
        venv_seconds = time.monotonic() - started
        started = time.monotonic()
        pip = subprocess.run([str(root / ".venv/bin/python"), "-m", "pip", "install", "--quiet",
                              *shlex.split(args.install)], cwd=root, capture_output=True, text=True)
        if pip.returncode:
            print(pip.stdout + pip.stderr, file=sys.stderr)
            return 1
        pip_seconds = time.monotonic() - started
        listed = subprocess.run([str(root / ".venv/bin/python"), "-m", "pip", "list", "--format=freeze"],
                                cwd=root, check=True, capture_output=True, text=True).stdout.split()
        names = sorted(line.split("==")[0].lower() for line in listed)
        size = folder_bytes(root / ".venv")
        print(f"bundle: {zip_path.name}, install: pip install {args.install}")
        print(f"python -m venv:  {venv_seconds:6.1f} s")
        print(f"pip install:     {pip_seconds:6.1f} s")
        print(f"venv size:       {size / 1e6:6.0f} MB")
        print(f"distributions:   {len(names):6d}")
        for heavy in ("playwright", "pytest", "nbval", "hypothesis", "greenlet", "pyee"):
            print(f"  {heavy:<12} {'installed' if heavy in names else '-'}")
        if args.keep:
            print(f"kept: {root}")
    finally:
        if not args.keep:
            subprocess.run(["rm", "-rf", str(tmp)], check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
