# Two commands for a newcomer: `make run` (dashboard) and `make test` (the suite).
# Both install what is missing first. Use a virtual environment if you like:
#   python3 -m venv .venv && . .venv/bin/activate && make run
PYTHON ?= python3
PORT ?= 8501

.PHONY: run classroom test install browser bench

install: .deps-installed

.deps-installed: requirements.txt
	$(PYTHON) -m pip install -r requirements.txt
	touch .deps-installed

# Debian's chromium for the browser tests and nginx for `serve` (their tests are skipped
# with a reason when these are absent).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && apt-get install -y -qq chromium; \
	  else echo "chromium not found: install Debian's 'chromium' package to run the browser tests"; fi; }
	@command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && apt-get install -y -qq nginx; \
	  else echo "nginx not found: install Debian's 'nginx' package to run the serve tests"; fi; }

run: install
	$(PYTHON) -m streamlit run app.py --server.port $(PORT)

# A room of students: nginx serves the frontend's files, Streamlit the rest (README).
classroom: install
	$(PYTHON) -m synth_core serve --classroom --address $(or $(ADDRESS),127.0.0.1) --port $(PORT)

test: install browser
	$(PYTHON) -m pytest

bench: install
	for f in benchmarks/*.py; do $(PYTHON) $$f || exit 1; done
