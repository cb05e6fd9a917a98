# Reproduce the project: raw reports -> processed tables -> executed notebooks -> figures -> HTML.
#
#   make reproduce   the main job (build, then run every notebook and render HTML)
#   make test        every test: pytest over tests/, then nbval over notebooks/
#
# Each target sets up what it needs (.venv with the pinned packages, and as
# root the Debian packages fonts-noto-cjk and, for the tests, chromium);
# re-running is fast once set up.  Recipes are POSIX sh.  `make help` lists
# every target.

SHELL   := /bin/sh
PYTHON  ?= python3
VENV    := .venv
PY      := $(VENV)/bin/python
JUPYTER := $(VENV)/bin/jupyter
STAMP   := $(VENV)/.installed
HTML_DIR := reports/html
RENDER  := $(PY) -m helpers.research.render

# Use the kernels registered inside .venv before any in the user's home.
export JUPYTER_PREFER_ENV_PATH := 1

# Parameters of `make subset` (empty: the notebook's own default).  LANG is
# taken only from the command line (`make subset LANG=en`), never from the
# locale variable of the environment; NB_LANG=… works too.
NAME      ?=
YEARS     ?=
PROVINCES ?=
LEVELS    ?=
AGENCIES  ?=
PARAMS    ?=
NB_LANG   ?=
ifeq ($(origin LANG),command line)
NB_LANG := $(LANG)
# "en"/"zh" are no locale names: keep them out of the programs' environment
unexport LANG
endif

LAB_ARGS ?=

.PHONY: help venv fonts test-deps test build notebooks reproduce html lab subset clean fuzz

help:
	@echo "make reproduce  venv + CJK font + build + execute every notebook in place + HTML (reports/html/)"
	@echo "make test       pytest (src/helpers doctests, tests/), then nbval (strict) over notebooks/"
	@echo "make venv       create .venv and install the project with its pinned packages"
	@echo "make build      python -m helpers build (data/raw -> data/processed)"
	@echo "make notebooks  execute notebooks/*.ipynb in place and render HTML (no build)"
	@echo "make html       re-render $(HTML_DIR)/ from the saved notebooks (no execution)"
	@echo "make lab        JupyterLab in the project environment (kernel python3 of .venv); LAB_ARGS=… are passed on"
	@echo "make subset NAME=n [YEARS=2019-2021,2024] [PROVINCES=江苏省,…] [LEVELS=…] [AGENCIES=…] [LANG=zh|en] [PARAMS=file.yml]"
	@echo "                run every notebook with these parameters into reports/subsets/NAME/ (notebooks/ untouched)"
	@echo "make fonts      install a Chinese font (Debian fonts-noto-cjk) when missing and root"
	@echo "make clean      remove data/processed outputs, $(HTML_DIR)/, reports/subsets/, reports/screenshots/ (never data/raw)"
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

# Shell helpers for the Debian packages the notebooks and tests need.
SYS_FUNCS = \
	have_cjk() { \
	  fc-list :lang=zh family 2>/dev/null | grep -q . || \
	  find /usr/share/fonts /usr/local/share/fonts "$$HOME/.fonts" "$$HOME/.local/share/fonts" \
	    \( -iname '*cjk*' -o -iname 'wqy*' -o -iname '*sourcehan*' \) 2>/dev/null | grep -q . ; \
	}; \
	have_chromium() { command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; }; \
	apt_install() { \
	  [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 || return 1; \
	  echo "system: installing $$* (apt-get)"; \
	  DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$$@" >/dev/null; \
	}; \
	no_cjk_hint() { \
	  echo "fonts: no Chinese (CJK) font found and cannot install one (not root, or no apt-get)." >&2; \
	  echo "fonts: install one, e.g. 'sudo apt-get install fonts-noto-cjk' (Debian/Ubuntu), 'sudo dnf install google-noto-sans-cjk-fonts' (Fedora)," >&2; \
	  echo "fonts: or Noto Sans CJK SC from your system's font manager, or point GIDR_CJK_FONT at a font file;" >&2; \
	  echo "fonts: continuing: figures fall back to English labels (their nbval comparison will differ)." >&2; \
	}

# A Chinese font for figure labels and pages (Debian fonts-noto-cjk).
fonts:
	@$(SYS_FUNCS); \
	if have_cjk; then echo "fonts: a Chinese (CJK) font is installed"; \
	elif apt_install fonts-noto-cjk && have_cjk; then echo "fonts: installed fonts-noto-cjk"; \
	else no_cjk_hint; fi

# What the tests need besides .venv: the CJK font and chromium (screenshots),
# installed together in one apt-get run when missing and root.
test-deps:
	@$(SYS_FUNCS); \
	missing=""; \
	have_cjk || missing="fonts-noto-cjk"; \
	have_chromium || missing="$$missing chromium"; \
	if [ -n "$$missing" ] && ! apt_install $$missing; then \
	  have_cjk || no_cjk_hint; \
	  have_chromium || echo "test-deps: chromium not found and cannot be installed here (needs root and apt-get); the screenshot test is skipped (it fails under CI)" >&2; \
	fi; \
	have_cjk && have_chromium && echo "test-deps: CJK font and chromium present" || true

test: venv test-deps
	@status=0; \
	echo "== pytest (doctests in src/helpers, then tests/)"; \
	$(PY) -m pytest --doctest-modules src/helpers tests || status=$$?; \
	set -- notebooks/*.ipynb; \
	if [ -e "$$1" ]; then \
	  echo "== build data/processed (the data the notebooks' saved outputs were made from)"; \
	  $(PY) -m helpers build --no-progress || status=$$?; \
	  tmp=$$(mktemp -d); \
	  echo "== nbval (strict) over notebooks/; figures and tables go to $$tmp/reports"; \
	  GIDR_REPORTS="$$tmp/reports" $(PY) -m pytest -p no:cacheprovider --nbval notebooks \
	    --nbval-sanitize-with notebooks/sanitize.cfg || status=$$?; \
	  rm -rf "$$tmp"; \
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

# Execute every notebook in place (kernel python3, cwd notebooks/), keep
# nothing volatile, write atomically, then render HTML and the index.  A
# failing notebook is reported and left unchanged; the others still run.
notebooks: venv
	$(RENDER) run

reproduce: venv fonts
	@start=$$(date +%s); \
	$(MAKE) --no-print-directory build && \
	$(MAKE) --no-print-directory notebooks; \
	status=$$?; \
	echo "reproduce: finished with status $$status in $$(( $$(date +%s) - start )) s; pages in $(HTML_DIR)/index.html"; \
	exit $$status

html: venv
	$(RENDER) html

lab: venv fonts
	@root=""; [ "$$(id -u)" = 0 ] && root="--allow-root"; \
	echo "$(JUPYTER) lab --ServerApp.root_dir=$(CURDIR) --ServerApp.default_url=/lab/tree/notebooks $$root $(LAB_ARGS)"; \
	exec $(JUPYTER) lab --ServerApp.root_dir="$(CURDIR)" --ServerApp.default_url=/lab/tree/notebooks $$root $(LAB_ARGS)

subset: venv fonts
	@if [ -z "$(NAME)" ]; then \
	  echo "usage: make subset NAME=name [YEARS=2019-2021,2024] [PROVINCES=…] [LEVELS=…] [AGENCIES=…] [LANG=zh|en] [PARAMS=file.yml]" >&2; \
	  exit 2; \
	fi
	$(MAKE) --no-print-directory build
	$(RENDER) subset "$(NAME)" --years "$(YEARS)" --provinces "$(PROVINCES)" --levels "$(LEVELS)" \
	  --agencies "$(AGENCIES)" --lang "$(NB_LANG)" $(if $(PARAMS),--params "$(PARAMS)")

clean:
	@if [ -d data/processed ]; then \
	  find data/processed -mindepth 1 -maxdepth 1 ! -name README.md ! -name '.git*' -exec rm -rf {} +; \
	fi
	rm -rf $(HTML_DIR) reports/subsets reports/screenshots
