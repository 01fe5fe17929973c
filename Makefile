# Two commands for a newcomer: `make run` (dashboard) and `make test` (the suite).
# Both install what is missing first. Use a virtual environment if you like:
#   python3 -m venv .venv && . .venv/bin/activate && make run
PYTHON ?= python3
PORT ?= 8501

.PHONY: run test install browser bench

install: .deps-installed

.deps-installed: requirements.txt
	$(PYTHON) -m pip install -r requirements.txt
	touch .deps-installed

# Debian's chromium for the browser tests (skipped with a reason when it is absent).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && apt-get install -y -qq chromium; \
	  else echo "chromium not found: install Debian's 'chromium' package to run the browser tests"; fi; }

run: install
	$(PYTHON) -m streamlit run app.py --server.port $(PORT)

test: install browser
	$(PYTHON) -m pytest

bench: install
	for f in benchmarks/*.py; do $(PYTHON) $$f || exit 1; done
