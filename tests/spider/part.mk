# tests/spider/ - calls sharded by host through MariaDB's Spider engine
# (scripts/spider.sh).  Not in make test: `make test-spider`.
.PHONY: test-spider
test-spider:
	$(call deps_then_make,build db web tools spider,all)
	@BUILD=$(BUILD) $(TOP)/tests/run $(TOP)/tests/spider/run-tests

# Aggregate ingest per write topology, same run (bench/spider/ingest).
.PHONY: bench-spider
bench-spider:
	$(call deps_then_make,build db spider,all)
	@BUILD=$(BUILD) $(TOP)/bench/spider/ingest
