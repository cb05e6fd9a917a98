# Reproduce the project: raw reports -> processed tables -> executed notebooks -> figures -> HTML.
#
#   make reproduce   the main job (build, then run every notebook and render HTML)
#   make test        every test: pytest over tests/, then nbval over notebooks/
#
# Each target sets up what it needs (.venv with the pinned packages); re-running
# is fast once set up.  Recipes are POSIX sh.

SHELL   := /bin/sh
PYTHON  ?= python3
VENV    := .venv
PY      := $(VENV)/bin/python
JUPYTER := $(VENV)/bin/jupyter
STAMP   := $(VENV)/.installed
NBS      = $(wildcard notebooks/*.ipynb)
HTML_DIR := reports/html

# Use the kernels registered inside .venv before any in the user's home.
export JUPYTER_PREFER_ENV_PATH := 1

.PHONY: help venv test build notebooks reproduce clean fuzz

help:
	@echo "make reproduce  build data/processed from data/raw, execute notebooks, render HTML"
	@echo "make test       run pytest (tests/) and nbval (notebooks/)"
	@echo "make venv       create .venv and install the project with its pinned packages"
	@echo "make build      python -m helpers build (data/raw -> data/processed)"
	@echo "make notebooks  execute notebooks/*.ipynb in place and render HTML into $(HTML_DIR)/"
	@echo "make clean      remove data/processed outputs and $(HTML_DIR)/ (never data/raw)"
	@echo "make fuzz       long mutation-fuzzing run over the shared corpus (N=$(N), SEED=$(SEED)) into $(FUZZ_OUT)/"

# .venv/.installed holds the sha256 of pyproject.toml it was installed from.
venv:
	@set -e; \
	want=$$($(PYTHON) -c 'import hashlib; print(hashlib.sha256(open("pyproject.toml", "rb").read()).hexdigest())'); \
	if [ -f $(STAMP) ] && [ "$$(cat $(STAMP))" = "$$want" ] && $(PY) -c '' 2>/dev/null; then \
	  echo "venv: $(VENV) is up to date"; exit 0; \
	fi; \
	start=$$(date +%s); \
	if ! $(PY) -m pip --version >/dev/null 2>&1; then \
	  rm -rf $(VENV); \
	  echo "venv: creating $(VENV) with $$($(PYTHON) --version 2>&1)"; \
	  if ! $(PYTHON) -m venv $(VENV); then \
	    rm -rf $(VENV); \
	    if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	      echo "venv: python3 -m venv failed (ensurepip missing?); installing python3-venv"; \
	      DEBIAN_FRONTEND=noninteractive apt-get update && \
	      DEBIAN_FRONTEND=noninteractive apt-get install -y python3-venv; \
	      $(PYTHON) -m venv $(VENV); \
	    else \
	      echo "venv: '$(PYTHON) -m venv' failed; install the venv module (Debian/Ubuntu: apt-get install python3-venv) and retry" >&2; \
	      exit 1; \
	    fi; \
	  fi; \
	fi; \
	echo "venv: installing the project and its pinned packages (pip install -e '.[test]')"; \
	$(PY) -m pip install --disable-pip-version-check --no-input -e '.[test]'; \
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (ipykernel)" >/dev/null; \
	echo "$$want" > $(STAMP); \
	echo "venv: ready in $$(( $$(date +%s) - start )) s"

test: venv
	@status=0; \
	echo "== pytest (doctests in src/helpers, then tests/)"; \
	$(PY) -m pytest --doctest-modules src/helpers tests || status=$$?; \
	set -- notebooks/*.ipynb; \
	if [ -e "$$1" ]; then \
	  echo "== nbval notebooks"; \
	  $(PY) -m pytest --nbval notebooks --nbval-sanitize-with notebooks/sanitize.cfg || status=$$?; \
	else \
	  echo "== nbval: no notebooks in notebooks/ yet; skipping"; \
	fi; \
	exit $$status

# Long fuzzing run (not part of `make test`, which runs a seeded sample):
# make fuzz N=100000 SEED=1 FUZZ_OUT=fuzz-out TIMEOUT=10
N         ?= 100000
SEED      ?= 1
FUZZ_OUT  ?= fuzz-out
TIMEOUT   ?= 10

fuzz: venv
	$(PY) scripts/fuzz.py --n $(N) --seed $(SEED) --out $(FUZZ_OUT) --timeout $(TIMEOUT)

build: venv
	$(PY) -m helpers build

notebooks: venv
	@set -e; \
	set -- notebooks/*.ipynb; \
	if [ ! -e "$$1" ]; then echo "notebooks: no notebooks in notebooks/ yet; nothing to run"; exit 0; fi; \
	mkdir -p $(HTML_DIR); \
	for nb in "$$@"; do \
	  echo "notebooks: executing $$nb"; \
	  $(JUPYTER) nbconvert --to notebook --execute --inplace --ExecutePreprocessor.kernel_name=python3 "$$nb"; \
	  $(JUPYTER) nbconvert --to html --output-dir $(HTML_DIR) "$$nb"; \
	done

reproduce: venv
	$(MAKE) build
	$(MAKE) notebooks

clean:
	@if [ -d data/processed ]; then \
	  find data/processed -mindepth 1 -maxdepth 1 ! -name .gitkeep -exec rm -rf {} +; \
	fi
	rm -rf $(HTML_DIR)
