# frontend/part.mk - the dashboard: `npm ci` from the committed lock file,
# then Vite builds frontend/dist (served by memprobe-server).  Node and npm
# come from scripts/deps.sh's "node" group (make run installs it), Chromium
# for the tests from its "browser" group.
#   make frontend       build frontend/dist
#   make test-browser   the browser suite alone
#   make test-frontend  the dashboard's contracts alone (node, no browser)
#   make bench-browser  first render and frame rate under a 5k events/s stream
#                       (synthetic feed, then the real stack with mmap-flood),
#                       on the bench build: frontend/dist-bench (vite --mode
#                       bench) adds the hooks bench/browser reads
# The call names and host id charset are read from the C headers at build
# time (frontend/vite-abi.js).

FRONTEND_SRC := $(wildcard frontend/src/*.js frontend/src/*.css frontend/src/*/*.vue \
		  frontend/src/*/*.js frontend/src/*.vue) frontend/index.html frontend/vite.config.js \
		frontend/vite-abi.js include/memprobe_abi.h model/host_id.h
FRONTEND_MODS := frontend/node_modules/.package-lock.json

# Node as old as package.json's engines allow ("node": ">=N"), and npm.
.PHONY: frontend node-check test-browser test-frontend bench-browser
node-check:
	@command -v node >/dev/null && command -v npm >/dev/null || { echo "frontend: node and npm" \
		"are needed to build the dashboard: run scripts/deps.sh node (make run does)" >&2; exit 1; }
	@need=$$(sed -n 's/.*"node": *">=\([0-9]*\)".*/\1/p' frontend/package.json); \
	have=$$(node -p 'process.versions.node.split(".")[0]'); [ "$$have" -ge "$$need" ] || { \
	echo "frontend: Node $$(node --version) is too old to build the dashboard (it needs Node $$need" \
		"or newer): README.md, Quick start, says where to get one" >&2; exit 1; }

$(FRONTEND_MODS): frontend/package-lock.json frontend/package.json | node-check
	cd frontend && $(TOP)/scripts/with-progress.sh "frontend: npm ci (from the npm registry)" \
		npm ci --no-audit --no-fund --loglevel=error

frontend/dist/index.html: $(FRONTEND_SRC) $(FRONTEND_MODS)
	cd frontend && npx vite build --logLevel warn

frontend/dist-bench/index.html: $(FRONTEND_SRC) $(FRONTEND_MODS)
	cd frontend && npx vite build --mode bench --logLevel warn

frontend: frontend/dist/index.html
all: frontend/dist/index.html
RUN_BUILD += frontend/dist/index.html

TEST_SUITES += $(TOP)/tests/frontend/run-tests $(TOP)/tests/browser/run-tests

# The browser suite's workload, static: no loader mmaps in its totals.
$(BUILD)/tests/browser-hold: tests/browser/hold.c
	@mkdir -p $(dir $@)
	$(CC) $(MP_CFLAGS) -static $< -o $@
all: $(BUILD)/tests/browser-hold

test-browser:
	$(call deps_then_make,run browser,all)
	@$(TOP)/tests/run $(TOP)/tests/browser/run-tests

test-frontend:
	$(call deps_then_make,node,frontend/dist/index.html)
	@$(TOP)/tests/run $(TOP)/tests/frontend/run-tests

bench: bench-browser
bench-browser:
	$(call deps_then_make,$(BENCH_GROUPS),all frontend/dist-bench/index.html)
	@node $(TOP)/bench/browser/render-bench.mjs
	@node $(TOP)/bench/browser/render-bench.mjs --real
