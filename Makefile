# Two commands do all set-up (see README):
#   make run   — build .venv from the pins and start the app on the embedded default
#   make test  — install what the tests need and run the whole suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run test bench mlflow-ui mlflow-store optuna-dashboard clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt $(VENV)/.runtime
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

# `make run PORT=8600` for another port; ui/serve.py is `streamlit run app.py` with the store and imports warmed at start
PORT ?= 8501

run: $(VENV)/.runtime
	$(BIN)/python -m ui.serve --server.port $(PORT)

# Two pytest-xdist workers, one test file each at a time (module fixtures are not started twice, and the
# browser journeys, sorted last, never run before an in-process Prefect test on the same worker).
# TEST_WORKERS=0 runs everything in this process.
TEST_WORKERS ?= 2

test: $(VENV)/.dev
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

bench: $(VENV)/.dev
	for f in bench/bench_*.py; do $(BIN)/python $$f || exit 1; done

# The store the workbench uses, read by core/config.py itself ($$MLFLOW_TRACKING_URI, else the SQLite file in
# $$WORKBENCH_HOME). A tracking server already serves its own UI: open that instead of starting one.
STORE_URI = $$($(BIN)/python -c 'from core.config import Settings; print(Settings.from_env().tracking_uri)')

MLFLOW_UI_PORT ?= 5000

mlflow-store: $(VENV)/.runtime
	@echo "$(STORE_URI)"

mlflow-ui: $(VENV)/.runtime
	@uri="$(STORE_URI)"; case "$$uri" in \
	  http://*|https://*) echo "The workbench uses the tracking server at $$uri: open it in a browser." ;; \
	  *) echo "MLflow UI on http://127.0.0.1:$(MLFLOW_UI_PORT) for $$uri"; \
	     exec $(BIN)/mlflow ui --backend-store-uri "$$uri" --host 127.0.0.1 --port $(MLFLOW_UI_PORT) --workers 1 ;; \
	esac

# The workbench's Optuna storage (journal file or database URL) in optuna-dashboard on http://127.0.0.1:8080.
# optuna-dashboard is not a requirement: install it with `.venv/bin/pip install optuna-dashboard` first.
optuna-dashboard: $(VENV)/.runtime
	@$(BIN)/python -c "import optuna_dashboard" 2>/dev/null || { echo "optuna-dashboard is not installed: $(BIN)/pip install optuna-dashboard"; exit 1; }
	$(BIN)/optuna-dashboard --host 127.0.0.1 --port 8080 "$$($(BIN)/python -c 'from core.config import Settings; print(Settings.from_env().optuna_storage.removeprefix("journal://"))')"

clean:
	rm -rf $(VENV) .pytest_cache test-artifacts
