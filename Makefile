# The verbs of this project. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

APP := .venv/app/bin/python
RASA := .venv/rasa/bin/rasa
export PYTHONPATH := $(CURDIR)
export HF_HUB_OFFLINE := 1
export TF_CPP_MIN_LOG_LEVEL := 3
export MINILM_ONNX_DIR := $(CURDIR)/.venv/minilm-onnx

.PHONY: help setup index run serve shell test test-unit test-stories validate train lint format bench clean

help: ## list the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

.venv/app/.installed: requirements/app.txt scripts/make_venv.sh
	@scripts/make_venv.sh app 3.11 requirements/app.txt

.venv/rasa/.installed: requirements/rasa.txt scripts/make_venv.sh
	@scripts/make_venv.sh rasa 3.10 requirements/rasa.txt

# checkov in its own environment: it pins boto3 to an older release than the app's
.venv/checkov/.installed: requirements/checkov.txt scripts/make_venv.sh
	@scripts/make_venv.sh checkov 3.11 requirements/checkov.txt

# MiniLM exported to ONNX once, for the dense featurizer in the Rasa pipeline
.venv/minilm-onnx/manifest.json: .venv/app/.installed components/export_minilm.py
	@$(APP) -m components.export_minilm .venv/minilm-onnx

# Chart.js for the dashboard, from npm (lockfile) into .venv/dashboard-assets; served by the app
.venv/dashboard-assets/.installed-from: .venv/app/.installed dashboard/package.json dashboard/package-lock.json
	@$(APP) -m dashboard.assets

envs: .venv/app/.installed .venv/rasa/.installed .venv/checkov/.installed .venv/minilm-onnx/manifest.json .venv/dashboard-assets/.installed-from

setup: envs index ## install what is missing: both environments, the database, the knowledge index, the trained model
	@$(APP) -m scripts.train
	@$(APP) -m scripts.stack prepare

index: envs ## build the knowledge index if rag/documents changed
	@$(APP) -m rag build --quiet

train: envs ## train the model if data/, domain.yml or config.yml changed
	@$(APP) -m scripts.train

run: setup ## chat with the assistant in rasa shell (custom actions and database running)
	@$(APP) -m scripts.stack run

shell: run ## same as run

serve: setup ## the local stack in the foreground; prints `ready`
	@$(APP) -m scripts.stack serve

validate: envs ## check the training data and domain
	@$(RASA) data validate --domain domain.yml --config config.yml --data $$(ls -d data/* | grep -v business.yml) --fail-on-warnings

lint: envs ## ruff checks
	@.venv/app/bin/ruff check actions core scripts tests components rag deploy dashboard bench
	@.venv/app/bin/ruff format --check actions core scripts tests components rag deploy dashboard bench

format: envs ## ruff format
	@.venv/app/bin/ruff format actions core scripts tests components rag deploy dashboard bench
	@.venv/app/bin/ruff check --fix actions core scripts tests components rag deploy dashboard bench

test: setup ## every test: lint, data validation, conversation tests, pytest
	@$(MAKE) --no-print-directory lint validate test-stories
	@$(APP) -m pytest -q

test-stories: train ## rasa test on the test stories, failing on any wrong prediction
	@$(RASA) test core --stories tests/test_stories.yml --model models/lotus.tar.gz --fail-on-prediction-errors --out tests/results/core

bench: setup ## the benchmarks: bench/results/*.json and bench/REPORT.md with plots
	@$(APP) -m bench

clean: ## remove environments, models and local data
	rm -rf .venv models .data tests/results
