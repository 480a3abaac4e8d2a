# Carekit: `make demo` runs the product with demo data; `make test` runs the checks and the tests.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
NODE_STAMP := node_modules/.installed-$(shell cat package-lock.json | cksum | cut -d' ' -f1)
PYTEST_ARGS ?=
PORT ?= 8000

.PHONY: setup demo serve test lint test-sqlite test-redis test-fast smoke messages clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	rm -f node_modules/.installed-* && touch $@

setup: $(STAMP) $(NODE_STAMP)

demo: setup
	$(BIN)/carekit migrate --noinput
	$(BIN)/carekit demo
	$(BIN)/carekit bootstrap
	$(BIN)/carekit serve --port $(PORT)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	CAREKIT_PROBES=1 $(BIN)/mypy src config bench
	$(BIN)/lint-imports

# The full suite on DATABASE_URL (SQLite when unset); Redis tests run when CAREKIT_TEST_REDIS_URL is set.
test: lint
	$(BIN)/pytest $(PYTEST_ARGS)

# The subset marked `sqlite`, on the embedded database whatever DATABASE_URL says.
test-sqlite: setup
	env -u DATABASE_URL $(BIN)/pytest -m sqlite $(PYTEST_ARGS)

# The tests marked `redis`, with the whole app in Redis mode (RedisHuey, channels-redis).
test-redis: setup
	REDIS_URL=$${CAREKIT_TEST_REDIS_URL:?set CAREKIT_TEST_REDIS_URL} $(BIN)/pytest -m redis $(PYTEST_ARGS)

test-fast: setup
	$(BIN)/pytest -x -q -m "not slow and not browser" $(PYTEST_ARGS)

# Run `make demo` on a scratch var/ directory, wait for /readyz, stop it.
smoke: setup
	$(BIN)/python .ci/smoke_demo.py

# Refresh the ru/en catalogues in locale/ from every marked string, then compile them. The inbox and
# loyalty keep app catalogues of their own, which makemessages would otherwise write into; they are
# moved aside for the run. Translate what comes back empty or fuzzy; a test fails until then.
messages: setup
	@mkdir -p var/locale-aside
	@for a in conversations loyalty; do [ -d src/carekit/$$a/locale ] && mv src/carekit/$$a/locale var/locale-aside/$$a || true; done
	$(BIN)/carekit makemessages -l ru -l en --no-location --ignore='.venv/*' --ignore='node_modules/*' \
		--ignore='var/*' --ignore='test-artifacts/*' --ignore=tests --ignore='bench/*'; \
	status=$$?; for a in conversations loyalty; do [ -d var/locale-aside/$$a ] && mv var/locale-aside/$$a src/carekit/$$a/locale || true; done; \
	exit $$status
	$(BIN)/carekit compilemessages -l ru -l en --ignore='.venv/*' --ignore='node_modules/*'

clean:
	rm -rf $(VENV) node_modules var
