# frontend/part.mk - the dashboard: `npm ci` from the committed lock file,
# then Vite builds frontend/dist (served by memprobe-server).  Node and
# Chromium come from scripts/deps.sh's "browser" group.
#   make frontend       build frontend/dist
#   make test-browser   the browser suite alone
#   make bench-browser  first render and frame rate under a 5k events/s stream
#                       (synthetic feed, then the real stack with mmap-flood)

FRONTEND_SRC := $(wildcard frontend/src/*.js frontend/src/*.css frontend/src/*/*.vue \
		  frontend/src/*/*.js frontend/src/*.vue) frontend/index.html frontend/vite.config.js
FRONTEND_MODS := frontend/node_modules/.package-lock.json

.PHONY: frontend browser-deps test-browser bench-browser
browser-deps:
	@$(TOP)/scripts/deps.sh browser
	@command -v npm >/dev/null || { echo "frontend: npm missing; install Node.js 20 with npm (apt-get install npm)" >&2; exit 1; }

$(FRONTEND_MODS): frontend/package-lock.json frontend/package.json | browser-deps
	cd frontend && npm ci --no-audit --no-fund --loglevel=error

frontend/dist/index.html: $(FRONTEND_SRC) $(FRONTEND_MODS)
	cd frontend && npx vite build --logLevel warn

frontend: frontend/dist/index.html
all: frontend/dist/index.html

TEST_SUITES += $(TOP)/tests/browser/run-tests

# The browser suite's workload, static: no loader mmaps in its totals.
$(BUILD)/tests/browser-hold: tests/browser/hold.c
	@mkdir -p $(dir $@)
	$(CC) $(MP_CFLAGS) -static $< -o $@
all: $(BUILD)/tests/browser-hold

test-browser: deps all
	@$(TOP)/tests/run $(TOP)/tests/browser/run-tests

bench: bench-browser
bench-browser: all
	@node $(TOP)/bench/browser/render-bench.mjs
	@node $(TOP)/bench/browser/render-bench.mjs --real
