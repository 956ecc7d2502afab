"""JupyterLab settings for this course: `make course` and the browser tests both load this file.

Passed explicitly (`jupyter lab --config=jupyter_lab_config.py`), so it changes nothing for any
other JupyterLab on the machine.
"""
import os
import sys

c = get_config()  # noqa: F821 (provided by traitlets when Jupyter loads this file)

here = os.path.dirname(os.path.abspath(__file__))

# Learners see the release notebooks, and the course opens on its start page.
c.ServerApp.root_dir = os.path.join(here, "notebooks")
c.ServerApp.default_url = c.LabApp.default_url = "/lab/tree/START-HERE.ipynb"
# One Ctrl-C stops the server and its kernels (no "Shut down this Jupyter server (y/[n])?" prompt).
c.ServerApp.answer_yes = True
# Open a browser only where there is a screen to show it; the URL with its token is printed anyway.
c.ServerApp.open_browser = bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
                                or sys.platform == "darwin")
# Containers and CI machines often run as root; Jupyter refuses that unless told.
c.ServerApp.allow_root = hasattr(os, "getuid") and os.getuid() == 0
# No pop-up asking to fetch Jupyter news, and no update check: the course works offline.
# lab-settings/overrides.json changes JupyterLab's defaults (a learner's own settings still win).
c.LabApp.news_url = None
c.LabApp.check_for_updates_class = "jupyterlab.NeverCheckForUpdate"
c.LabApp.app_settings_dir = os.path.join(here, "lab-settings")
