# Everything sets itself up: the first target that needs a virtual environment creates it. Set-up
# output goes to stderr, so `make demo 2>/dev/null | jq .` sees nothing but the demo's JSON line.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
# Parallel workers (pytest-xdist): four on two cores, as many tests wait on servers, browsers and subprocesses
# (measured: 3.8 min against 4.7 with one per core); each takes the next test when it is free; empty runs serially.
PYTEST_WORKERS ?= -n 4 --dist worksteal
.DEFAULT_GOAL := help

.PHONY: help venv test lint format clean test-313 test-deep sam validate build invoke

# SAM CLI lives in its own virtual environment: it pins boto3, click and requests.
SAM_VENV ?= .venv-sam
SAM := $(SAM_VENV)/bin/sam
SAM_STAMP := $(SAM_VENV)/.installed
export SAM_CLI_TELEMETRY := 0
# `make invoke` defaults: the Docker-free runner (tools/local_invoke.py).
FN ?= ArchiveSubmissionFunction
EVENT ?= events/submission.json
ENV_VARS ?= events/env.json

help:
	@echo "make demo      a submission and a file upload through the whole pipeline (moto + a local receiver; KEEP=1, PAYLOAD=f.json)"
	@echo "make test      set up $(VENV) (+ Debian's chromium when absent) and run the whole test suite (about 4 minutes)"
	@echo ""
	@echo "make lint      ruff + mypy                       make format   ruff's fixes and formatting"
	@echo "make test-313  the test suite under python3.13 (the Lambda runtime), in .venv-313"
	@echo "make test-deep the unit tests with 2,000 examples per property (HYPOTHESIS_PROFILE=deep), as CI runs them"
	@echo "make validate  sam validate --lint               make build    sam build of the four functions (python3.13)"
	@echo "make invoke FN=NotifyWebhookFunction EVENT=events/s3_put.json   run a function without Docker (local S3 in AWS_ENDPOINT_URL_S3, or AWS=1)"
	@echo "make replay ARGS=\"list|replay [--stack-name S|--local] [--dry-run] [--max N]\"   parked notifications"
	@echo "make attach-bucket BUCKET=b [ATTACH_ARGS=\"--dry-run --apply-cors --detach --stack-name S\"]   use a bucket you have"
	@echo "make api       the API and web/upload.html on http://127.0.0.1:3000 (embedded S3, a local webhook receiver; API_PORT, API_ARGS)"
	@echo "make bench     benchmarks (minutes; BENCH_ARGS)  make scan     checkov over template.yaml"
	@echo "make bench-remote  hashing behind a per-connection-throttled proxy (Ceph RGW; REMOTE_ARGS)   make bench-page  the upload page in Chromium there (PAGE_ARGS)"
	@echo "make chromium  install Debian's chromium + chromium-driver when absent (the browser test needs them)"
	@echo "make test-rgw  the integration and e2e suites once more on Ceph RADOS Gateway (tools/rgw.sh; apt, root)"
	@echo "make rgw       start that gateway on 127.0.0.1       make rgw-stop stop it"
	@echo "make test-deploy  sam build + deploys of the real template to LocalStack (docs/deploy.md; python3.13)"
	@echo "make localstack    start LocalStack on 127.0.0.1:4566  make localstack-stop stop it"
	@echo "make test-localstack  the integration and e2e suites once more on LocalStack's S3 (python3.13)"
	@echo "make webhook-secret STACK=form-archive   print a deployed stack's webhook signing secret"
	@echo "make rotate-webhook-secret STACK=form-archive [ROTATE_ARGS=--dry-run]   new secret, old one kept 24 h"
	@echo "make clean     remove the virtual environments and caches"

# One rule for every virtual environment: $(call venv_rule,DIR,REQUIREMENTS,MORE PREREQUISITES,HOW LONG).
# One line on stderr says what is happening; pip stays quiet and writes to stderr too. A venv that exists
# (its requirements changed) is brought up to date in place.
define venv_rule
$(1)/.installed: $(2) $(3)
	@echo "setting up $(1) (pip install -r $(2), $(4), once)" >&2
	@test -x $(1)/bin/python || $$(PYTHON) -m venv $(1) >&2
	@$(1)/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip >&2
	@$(1)/bin/python -m pip install --quiet --disable-pip-version-check -r $(2) >&2
	@touch $$@
endef

$(eval $(call venv_rule,$(VENV),requirements-dev.txt,functions/requirements.txt,about a minute))

venv: $(STAMP)

# The browser test needs Debian's chromium + chromium-driver: installed here when absent (root and apt-get),
# otherwise make stops at once with the command to run, before the suite.
test: $(STAMP)
	@tools/chromium.sh >/dev/null
	$(PY) -m pytest $(PYTEST_WORKERS) $(PYTEST_ARGS)

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

format: $(STAMP)
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

test-313:
	@py313="$$(tools/find_python.sh 3.13)" && $(MAKE) --no-print-directory test VENV=.venv-313 PYTHON="$$py313"

# The property tests dig deeper (tests/hypothesis_profiles.py): 2,000 examples each instead of 200, with
# the unit tests; then the end-to-end properties (marked deep_property) with their full counts.
test-deep: $(STAMP)
	HYPOTHESIS_PROFILE=deep $(PY) -m pytest $(PYTEST_WORKERS) tests/unit $(PYTEST_ARGS)
	HYPOTHESIS_PROFILE=deep $(PY) -m pytest -m deep_property tests/integration $(PYTEST_ARGS)

$(eval $(call venv_rule,$(SAM_VENV),requirements-sam.txt,,about a minute))

sam: $(SAM_STAMP)

validate: $(SAM_STAMP)
	$(SAM) validate --lint

# `sam build` looks for python3.13 on PATH: put pyenv's 3.13 first (the same effect as
# PYENV_VERSION=3.11.7:3.13.0 on the development machines, without depending on the patch versions).
build: $(SAM_STAMP)
	@py313="$$(tools/find_python.sh 3.13)" && echo "sam build with $$py313" && \
		PATH="$$(dirname "$$py313"):$$PATH" $(SAM) build

# Only the function's result goes to stdout (`make invoke ... | jq`); the command and logs go to stderr.
# The runner refuses to run without a local S3 endpoint (AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL) unless
# AWS=1 (its --aws): it never reaches real AWS by accident. Exit 1 when the function raised or answered 5xx.
AWS ?=
invoke: $(STAMP)
	@echo "$(PY) -m tools.local_invoke $(FN) --event $(EVENT) --env-vars $(ENV_VARS)$(if $(AWS), --aws)" >&2
	@$(PY) -m tools.local_invoke $(FN) --event $(EVENT) --env-vars $(ENV_VARS)$(if $(AWS), --aws)

clean:
	rm -rf $(VENV) .venv-313 $(SAM_VENV) .venv-checkov .pytest_cache .mypy_cache .ruff_cache .hypothesis .aws-sam

# Benchmarks (issue 6): minutes, so not part of `make test`; writes bench/results.json.
# A quick look: make bench BENCH_ARGS="--object-mib 16 --rounds 3 --archive-calls 50"
.PHONY: bench
BENCH_ARGS ?= --object-mib 256
bench: $(STAMP)
	$(PY) -m bench.run $(BENCH_ARGS)

# Remote mode (issue 17): hashing through a proxy that caps each connection (32 MiB/s, 20 ms to the first
# byte, as S3 looks from a Lambda function) in front of Ceph RGW (tools/rgw.sh; root and apt on first use).
# Writes bench/results-remote.json. Without RGW: make bench-remote REMOTE_ARGS="--remote moto --object-mib 32"
.PHONY: bench-remote
REMOTE_ARGS ?= --remote rgw --object-mib 256 --rounds 3
bench-remote: $(STAMP)
	$(PY) -m bench.run $(REMOTE_ARGS)

# The upload page (issue 32): web/upload.html in headless Chromium sends the same 256 MiB file in parts and as
# one presigned PUT through the same proxy in front of Ceph RGW (tools/rgw.sh), rounds alternating; prints
# both rates, their ratio, the tab's JS heap peak and whether the progress bar told the truth.
# Needs chromium + chromium-driver (make chromium). Without RGW: make bench-page PAGE_ARGS="--store moto"
.PHONY: bench-page
PAGE_ARGS ?=
bench-page: $(STAMP)
	$(PY) -m bench.page_upload $(PAGE_ARGS)

# Template security scan (issue 7): checkov in its own venv; deliberate skips live in template.yaml's
# Metadata (checkov: skip) with their reasons, repeated in README's security section.
CHECKOV_VENV ?= .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed
.PHONY: scan
$(eval $(call venv_rule,$(CHECKOV_VENV),requirements-checkov.txt,,about two minutes))

scan: $(CHECKOV_STAMP)
	$(CHECKOV_VENV)/bin/checkov --file template.yaml --framework cloudformation --compact --quiet \
		--skip-download

# `make demo` (issue 5): one submission through archive -> S3 event (moto) -> signed webhook, then one file
# through POST /uploads -> presigned PUT -> signed webhook; no AWS, no Docker. Progress on stderr, one JSON
# line on stdout. PAYLOAD=file.json archives your own JSON; KEEP=1 keeps moto and the receiver up and prints
# curl commands (Ctrl-C stops them: the demo exits with its run's status, 0 when it succeeded, but make's own
# status is 130, because the Ctrl-C reaches make too); DEMO_ARGS for the rest (python -m tools.demo --help).
.PHONY: demo
PAYLOAD ?=
KEEP ?=
DEMO_ARGS ?=
demo: $(STAMP)
	@$(PY) -m tools.demo $(if $(PAYLOAD),--payload "$(PAYLOAD)") $(if $(KEEP),--keep-running) $(DEMO_ARGS)

# A second S3 implementation (issue 16): Ceph RADOS Gateway on 127.0.0.1, installed with apt when absent
# (root). `make test-rgw` starts it when it is not running and stops it afterwards only if it started it.
# Serially, like test-localstack: each test empties the store, and one gateway would serve every worker.
.PHONY: rgw rgw-stop test-rgw
RGW := tools/rgw.sh
rgw:
	@$(RGW) start

rgw-stop:
	@$(RGW) stop

test-rgw: $(STAMP)
	@if $(RGW) status >/dev/null 2>&1; then started=; else started=1; fi; \
	env_file="$$($(RGW) start)" || exit 1; \
	FORM_ARCHIVE_TEST_S3=rgw FORM_ARCHIVE_RGW_ENV="$$env_file" $(PY) -m pytest tests/integration tests/e2e \
		-p no:cacheprovider $(PYTEST_ARGS); status=$$?; \
	if [ -n "$$started" ]; then $(RGW) stop; fi; exit $$status

# `make api` (issue 14): a Docker-free `sam local start-api` on http://127.0.0.1:$(API_PORT) with moto's S3
# embedded and a webhook receiver on a free port, so the upload page shows each delivery; prints the API key
# and the upload page's address on stderr, one JSON line on stdout. API_PORT=0 takes any free port. API_ARGS
# for the rest (python -m tools.local_api --help), e.g. API_ARGS="--webhook-url http://127.0.0.1:8000/webhook".
.PHONY: api
API_PORT ?= 3000
API_ARGS ?=
api: $(STAMP)
	@$(PY) -m tools.local_api --embedded-s3 --port $(API_PORT) $(API_ARGS)

# `make replay` (issue 15): list or replay the notifications parked on the failure queue.
#   make replay ARGS="list --stack-name form-archive"      make replay ARGS="replay --stack-name form-archive"
#   make replay ARGS="replay --local --dry-run"           (python -m tools.replay --help for all options)
# Progress on stderr, one JSON summary line on stdout.
.PHONY: replay
ARGS ?= list
replay: $(STAMP)
	@$(PY) -m tools.replay $(ARGS)

# The browser test (tests/e2e/test_upload_page.py) drives Debian's Chromium; CI installs it here first.
.PHONY: chromium
chromium:
	@tools/chromium.sh >/dev/null

# `make attach-bucket` (issue 21): EventBridge delivery on a bucket you already have, every other
# notification kept (docs/existing-bucket.md). boto3's environment picks the account, region, endpoint.
#   make attach-bucket BUCKET=my-bucket ATTACH_ARGS="--dry-run"
#   make attach-bucket ATTACH_ARGS="--stack-name form-archive --apply-cors"
.PHONY: attach-bucket
attach-bucket: $(STAMP)
	@$(PY) -m tools.attach_bucket $(BUCKET) $(ATTACH_ARGS)

# Deploys, proven on a CloudFormation engine (issue 20, docs/deploy.md): LocalStack on 127.0.0.1 in its own
# Python 3.13 venv (tools/localstack.sh). `make test-deploy` builds, starts LocalStack, deploys the real
# template with `sam deploy` for each parameter set in tests/deploy, checks the wiring through the APIs,
# drives `sam deploy --guided` through a terminal, and stops LocalStack whatever happens (unless it was
# running before: a LocalStack someone started with `make localstack` is left alone).
.PHONY: localstack localstack-stop test-deploy webhook-secret rotate-webhook-secret
LOCALSTACK := tools/localstack.sh
STACK ?= form-archive
localstack:
	@$(LOCALSTACK) start

localstack-stop:
	@$(LOCALSTACK) stop

test-deploy: $(STAMP) $(SAM_STAMP)
	@tools/find_python.sh 3.13 >/dev/null || { echo "test-deploy: needs python3.13 (LocalStack and sam build); failing" >&2; exit 1; }
	@$(MAKE) --no-print-directory build
	@if $(LOCALSTACK) status >/dev/null 2>&1; then started=; else started=1; fi; \
	trap 'if [ -n "$$started" ]; then $(LOCALSTACK) stop; fi' EXIT; trap 'exit 130' INT TERM; \
	env_file="$$($(LOCALSTACK) start)" || { echo "test-deploy: LocalStack did not start (see above); failing" >&2; exit 1; }; \
	FORM_ARCHIVE_LOCALSTACK_ENV="$$env_file" FORM_ARCHIVE_SAM="$(abspath $(SAM))" \
		FORM_ARCHIVE_LOCALSTACK_VENV="$(abspath .venv-localstack)" \
		$(PY) -m pytest tests/deploy tests/unit/tools/test_localstack_shim.py -p no:cacheprovider $(PYTEST_ARGS)

# `make test-localstack`: the integration and e2e suites against LocalStack's S3 (signature validation on),
# like test-rgw; starts LocalStack when it is not running and stops it afterwards only if it started it.
.PHONY: test-localstack
test-localstack: $(STAMP)
	@if $(LOCALSTACK) status >/dev/null 2>&1; then started=; else started=1; fi; \
	trap 'if [ -n "$$started" ]; then $(LOCALSTACK) stop; fi' EXIT; trap 'exit 130' INT TERM; \
	env_file="$$($(LOCALSTACK) start)" || { echo "test-localstack: LocalStack did not start (see above); failing" >&2; exit 1; }; \
	FORM_ARCHIVE_TEST_S3=localstack FORM_ARCHIVE_LOCALSTACK_ENV="$$env_file" $(PY) -m pytest tests/integration \
		tests/e2e -p no:cacheprovider $(PYTEST_ARGS)

# Prints the webhook signing secret of a deployed stack (and nothing else), for the receiver's configuration.
webhook-secret: $(STAMP)
	@$(PY) -m tools.webhook_secret --stack-name "$(STACK)"

# A new generated signing secret; deliveries carry both signatures for the overlap (docs/operations.md).
ROTATE_ARGS ?=
rotate-webhook-secret: $(STAMP)
	@$(PY) -m tools.rotate_webhook_secret --stack-name "$(STACK)" $(ROTATE_ARGS)
