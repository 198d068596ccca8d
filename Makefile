# Two commands do all set-up (see README):
#   make run   — build .venv from the pins and start the app on the embedded default
#   make test  — install what the tests need and run the whole suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run test bench mlflow-ui clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt $(VENV)/.runtime
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

run: $(VENV)/.runtime
	$(BIN)/python -m streamlit run app.py

test: $(VENV)/.dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(VENV)/.dev
	for f in bench/bench_*.py; do $(BIN)/python $$f || exit 1; done

mlflow-ui: $(VENV)/.runtime
	$(BIN)/mlflow ui --backend-store-uri sqlite:///workspace/mlflow.db --port 5000

clean:
	rm -rf $(VENV) .pytest_cache test-artifacts
