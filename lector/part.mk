# lector/ - capture sources, memprobe-cat and the lector daemon.

LECTOR_SRC_COMMON := lector/source.c lector/source_ring.c lector/ring_file.c lector/source_bpf.c
LECTOR_LIBS       := -lbpf -lelf -lz
LECTOR_DB_CFLAGS   = $(MARIADB_CFLAGS)
LECTOR_DB_LIBS     = $(MARIADB_LIBS)

# The daemon: sources -> queue -> accounting -> sink.
LECTOR_DAEMON_SRC := lector/main.c lector/capture.c lector/lector.c lector/queue.c lector/acct.c lector/range.c \
		     lector/range_tree.c lector/config.c lector/migrate.c lector/runstate.c lector/sink_jsonl.c lector/sink_mysql.c \
		     lector/sink_mysql_stmt.c lector/sink_mysql_read.c lector/sink_mysql_ranges.c lector/retain.c
MIGRATIONS        := $(sort $(wildcard migrations/[0-9][0-9][0-9]_*.sql))

$(BUILD)/lector:
	@mkdir -p $@

$(BUILD)/lector/%.o: lector/%.c lector/*.h include/memprobe_abi.h $(BPF_SKEL) | $(BUILD)/lector
	$(CC) $(MP_CFLAGS) $(LECTOR_DB_CFLAGS) -I$(BUILD)/bpf -c $< -o $@

$(BUILD)/memprobe-cat: $(patsubst lector/%.c,$(BUILD)/lector/%.o,$(LECTOR_SRC_COMMON) lector/memprobe_cat.c)
	$(CC) $(CFLAGS) $^ -o $@ $(LECTOR_LIBS)

# Migrations are compiled in: a binary knows exactly the schema it speaks.
$(BUILD)/lector/migrations_gen.c: $(MIGRATIONS) migrations/embed.sh | $(BUILD)/lector
	migrations/embed.sh $@ $(MIGRATIONS)

$(BUILD)/lector/migrations_gen.o: $(BUILD)/lector/migrations_gen.c lector/migrate.h
	$(CC) $(MP_CFLAGS) $(LECTOR_DB_CFLAGS) -c $< -o $@

$(BUILD)/bin/lector: $(patsubst lector/%.c,$(BUILD)/lector/%.o,$(LECTOR_SRC_COMMON) $(LECTOR_DAEMON_SRC)) \
		$(BUILD)/lector/migrations_gen.o
	@mkdir -p $(BUILD)/bin
	$(CC) $(CFLAGS) -pthread $^ -o $@ $(LECTOR_LIBS) $(LECTOR_DB_LIBS)

# Unit test of the accounting rules (no database, no capture).
$(BUILD)/tests/acct-test: tests/lector/acct-test.c lector/acct.c lector/range.c lector/range_tree.c \
		lector/acct.h lector/range.h lector/range_tree.h include/memprobe_abi.h
	@mkdir -p $(BUILD)/tests
	$(CC) $(MP_CFLAGS) tests/lector/acct-test.c lector/acct.c lector/range.c lector/range_tree.c -o $@

# Benchmark helper: lector's sink without capture or accounting.
LECTOR_SINK_OBJ := $(patsubst lector/%.c,$(BUILD)/lector/%.o,lector/sink_mysql.c lector/sink_mysql_stmt.c lector/sink_mysql_ranges.c \
		     lector/sink_mysql_read.c lector/migrate.c lector/config.c lector/acct.c lector/range.c \
		     lector/range_tree.c) \
		   $(BUILD)/lector/migrations_gen.o
$(BUILD)/bench/insert-ceiling: bench/lector/insert-ceiling.c $(LECTOR_SINK_OBJ) lector/*.h
	@mkdir -p $(BUILD)/bench
	$(CC) $(MP_CFLAGS) $(LECTOR_DB_CFLAGS) bench/lector/insert-ceiling.c $(LECTOR_SINK_OBJ) -o $@ $(LECTOR_DB_LIBS)

# Unit test of retention's cutoff and the retain_days bound (no database).
$(BUILD)/tests/retain-test: tests/lector/retain-test.c lector/config.c lector/config.h lector/retain.h
	@mkdir -p $(BUILD)/tests
	$(CC) $(MP_CFLAGS) tests/lector/retain-test.c lector/config.c -o $@

# Benchmark helper: what the commit lock costs per transaction.
$(BUILD)/bench/commit-lock: bench/lector/commit-lock.c $(LECTOR_SINK_OBJ) lector/*.h
	@mkdir -p $(BUILD)/bench
	$(CC) $(MP_CFLAGS) $(LECTOR_DB_CFLAGS) bench/lector/commit-lock.c $(LECTOR_SINK_OBJ) -o $@ $(LECTOR_DB_LIBS)

# Benchmark helper: ns per call of the range set, by the number of ranges.
$(BUILD)/bench/range-ops: bench/lector/range_ops.c lector/range.c lector/range_tree.c lector/range.h \
		lector/range_tree.h
	@mkdir -p $(BUILD)/bench
	$(CC) $(MP_CFLAGS) bench/lector/range_ops.c lector/range.c lector/range_tree.c -o $@

# Benchmark load: one process holding many separate mappings, churning one.
$(BUILD)/bench/map-holder: bench/lector/map_holder.c
	@mkdir -p $(BUILD)/bench
	$(CC) $(MP_CFLAGS) $< -o $@

all: $(BUILD)/memprobe-cat $(BUILD)/bin/lector $(BUILD)/tests/acct-test $(BUILD)/tests/retain-test \
     $(BUILD)/bench/insert-ceiling $(BUILD)/bench/commit-lock $(BUILD)/bench/map-holder $(BUILD)/bench/range-ops
RUN_BUILD += $(BUILD)/bin/lector $(BUILD)/memprobe-cat

TEST_SUITES += $(TOP)/tests/lector/run-tests

.PHONY: run stop bench-lector
# make run installs and builds only what running needs (RUN_BUILD).
run:
	$(call deps_then_make,run,$(RUN_BUILD))
	@$(TOP)/scripts/run.sh
stop:
	@$(TOP)/scripts/stop.sh
bench-lector:
	$(call deps_then_make,$(BENCH_GROUPS),all)
	@$(TOP)/bench/lector/run
bench: bench-lector

# Ingest of the 1M flood with and without a process holding 65k separate
# mappings that changes one per commit.
.PHONY: bench-ranges
bench-ranges:
	$(call deps_then_make,$(BENCH_GROUPS),all)
	@$(TOP)/bench/lector/ranges
bench: bench-ranges

# Ingest rate while --retain-days purges 1M old rows, against no purge.
.PHONY: bench-retain
bench-retain:
	$(call deps_then_make,$(BENCH_GROUPS),all)
	@$(TOP)/bench/lector/retain
bench: bench-retain
