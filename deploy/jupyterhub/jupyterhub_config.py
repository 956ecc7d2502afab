"""JupyterHub for this course's class on one machine (`make hub`; set up by setup_hub.py first).

Run as root: ``jupyterhub -f deploy/jupyterhub/jupyterhub_config.py``. Environment:
``COURSE_HUB_BASE`` (default /srv/system-design, what setup_hub.py made), ``COURSE_HUB_IP`` (default
127.0.0.1: loopback only), ``COURSE_HUB_PORT`` (default 8000), ``COURSE_HUB_API_PORT`` (the hub's own API, default 8081) and
``COURSE_HUB_PROXY_API_PORT`` (the proxy's, default 8001), all on 127.0.0.1.

Users log in with their system account (PAM). Each server runs as its user, in their home, with the
class's Python (BASE/venv). What differs by group (setup_hub.py wrote both folders):

- ``formgrade-system-design`` (instructor, grader): BASE/etc/instructor: the formgrader and the
  create-assignment tools, and ``python -m autograde``; their server opens on the course directory
  BASE/course (formgrader needs the course inside the server's root);
- ``system-design-students``: BASE/etc/student: the Assignments tab (fetch, submit, fetch feedback) and
  Validate, the student bundle on PYTHONPATH; the formgrader is switched off. Turning it back on in one's
  own ~/.jupyter gives a student nothing: the course directory and gradebook are mode 2770.
"""

import json
import os
import pwd
from pathlib import Path

c = get_config()  # noqa: F821

BASE = Path(os.environ.get("COURSE_HUB_BASE", "/srv/system-design"))
ROLES = json.loads((BASE / "hub" / "roles.json").read_text())
INSTRUCTORS = set(ROLES["instructors"])
STUDENTS = set(ROLES["students"])
VENV = Path(ROLES["venv"])

c.JupyterHub.ip = os.environ.get("COURSE_HUB_IP", "127.0.0.1")
c.JupyterHub.port = int(os.environ.get("COURSE_HUB_PORT", "8000"))
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = int(os.environ.get("COURSE_HUB_API_PORT", "8081"))
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{int(os.environ.get('COURSE_HUB_PROXY_API_PORT', '8001'))}"
# Hub's own state (sqlite database, cookie secret, proxy token) in BASE/hub, root only.
c.JupyterHub.db_url = f"sqlite:///{BASE / 'hub' / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(BASE / "hub" / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(BASE / "hub" / "jupyterhub.pid")
c.ConfigurableHTTPProxy.command = [ROLES["proxy"]]
c.ConfigurableHTTPProxy.pid_file = str(BASE / "hub" / "jupyterhub-proxy.pid")
# Ctrl-C stops the proxy and every user's server with the hub (both are the defaults; said here on purpose).
c.JupyterHub.cleanup_servers = True
c.JupyterHub.cleanup_proxy = True

# System accounts and passwords (PAM); only the class's accounts may log in.
c.JupyterHub.authenticator_class = "pam"
c.Authenticator.allowed_users = INSTRUCTORS | STUDENTS
c.Authenticator.admin_users = set()  # nobody may open another user's server
c.JupyterHub.admin_access = False
c.PAMAuthenticator.open_sessions = False  # no login session bookkeeping (systemd-logind) needed

# Each user's own server: the class's Python, in their home, as them.
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [str(VENV / "bin" / "jupyterhub-singleuser")]
c.Spawner.notebook_dir = "~"
c.Spawner.default_url = "/lab"
c.Spawner.http_timeout = 120
c.Spawner.start_timeout = 180
c.Spawner.env_keep = ["LANG", "LC_ALL", "TZ"]
c.Spawner.mem_limit = None


def course_environment(spawner):
    """JUPYTER_CONFIG_PATH and PYTHONPATH by the user's group."""
    name = spawner.user.name
    pwd.getpwnam(name)  # a user without a system account never starts
    venv_bin = str(VENV / "bin")
    env = {"PATH": f"{venv_bin}:/usr/local/bin:/usr/bin:/bin", "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
    if name in INSTRUCTORS:
        # formgrader works only when the course directory is inside the server's root (it refuses "../")
        spawner.notebook_dir = str(BASE / "course")
        env |= {"JUPYTER_CONFIG_PATH": str(BASE / "etc" / "instructor"), "PYTHONPATH": str(BASE / "course"),
                "COURSE_DIRECTORY": str(BASE / "course")}
    else:
        env |= {"JUPYTER_CONFIG_PATH": str(BASE / "etc" / "student"), "PYTHONPATH": str(BASE / "public")}
    spawner.environment.update(env)


c.Spawner.pre_spawn_hook = course_environment
