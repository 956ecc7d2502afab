# Two commands (see README.md):
#   make course   set up .venv if needed, then open the course in JupyterLab on notebooks/
#   make test     set up .venv if needed, then run every check (what CI runs via .ci/run)

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8888

.PHONY: course test setup release check grade clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed; found " + sys.version.split()[0] + ". Run: make PYTHON=python3.11 ...")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,dev,cluster,hub]'
	@mkdir -p grading/exchange
	@touch $(STAMP)
	@echo "environment ready in $(VENV)/"

# course/lab.py starts JupyterLab with jupyter_lab_config.py (start page, one Ctrl-C stops it).
course: $(STAMP)
	@mkdir -p grading/exchange
	@$(BIN)/python -m course.lab --ServerApp.port=$(PORT)

test: $(STAMP)
	$(BIN)/python -m pytest -n auto --dist loadfile tests --durations=15
	$(BIN)/python -m pytest -n auto --dist loadfile --nbval-lax --nbval-current-env -p no:cacheprovider solutions
	$(BIN)/python -m autograde check

release: $(STAMP)
	$(BIN)/python -m autograde release

check: $(STAMP)
	$(BIN)/python -m autograde check

clean:
	rm -rf $(VENV) grading .pytest_cache

# `sudo make hub`: a class on this machine (deploy/jupyterhub/, docs/jupyterhub.md): accounts, nbgrader's
# exchange, then JupyterHub on loopback. Ctrl-C stops the hub, its proxy and every user's server.
HUB_PORT ?= 8000
.PHONY: hub
hub: $(STAMP)
	$(BIN)/python deploy/jupyterhub/setup_hub.py
	@echo "JupyterHub: http://127.0.0.1:$(HUB_PORT)/ (log in with an account above; Ctrl-C stops it)"
	@echo "grade as root: $(BIN)/python deploy/jupyterhub/grade_class.py 01-requirements-estimation"
	COURSE_HUB_PORT=$(HUB_PORT) $(BIN)/jupyterhub -f deploy/jupyterhub/jupyterhub_config.py
