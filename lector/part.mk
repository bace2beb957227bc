# lector/ - the lector daemon: capture thread -> queue -> writer thread
# (accounting, sinks), retention.  The capture library is in capture/, the
# shared accounting and configuration in model/, MariaDB access and the
# migrations in db/.

LECTOR_LIBS       := $(CAPTURE_LIBS)
LECTOR_DB_CFLAGS   = $(MARIADB_CFLAGS)
LECTOR_DB_LIBS     = $(MARIADB_LIBS)
LECTOR_CAPTURE_OBJ := $(patsubst capture/%.c,$(BUILD)/capture/%.o,$(CAPTURE_SRC))
# model/part.mk is read after this file: its objects by name.
LECTOR_MODEL_OBJ  := $(addprefix $(BUILD)/model/,acct.o range.o range_tree.o config.o options.o)

# The daemon: sources -> queue -> accounting -> sink.
LECTOR_DAEMON_SRC := lector/main.c lector/capture.c lector/writer.c lector/queue.c \
		     lector/runstate.c lector/sink_jsonl.c lector/sink_mysql.c \
		     lector/sink_mysql_stmt.c lector/sink_mysql_read.c lector/sink_mysql_ranges.c lector/sink_mysql_oom.c \
		     lector/checkpoint.c lector/sink_mysql_ckpt.c lector/sink_mysql_lease.c \
		     lector/retain.c lector/calls_part.c lector/sampler.c lector/procfs.c \
		     lector/sink_mysql_names.c lector/resolve.c lector/resolve_cgroup.c lector/resolve_file.c

$(BUILD)/lector:
	@mkdir -p $@

$(BUILD)/lector/%.o: lector/%.c lector/*.h model/*.h capture/*.h db/*.h include/memprobe_abi.h | $(BUILD)/lector
	$(CC) $(MP_CFLAGS) $(LECTOR_DB_CFLAGS) -c $< -o $@

$(BUILD)/bin/lector: $(patsubst lector/%.c,$(BUILD)/lector/%.o,$(LECTOR_DAEMON_SRC)) $(LECTOR_CAPTURE_OBJ) \
		$(LECTOR_MODEL_OBJ) $(DB_OBJ)
	@mkdir -p $(BUILD)/bin
	$(CC) $(CFLAGS) -pthread $^ -o $@ $(LECTOR_LIBS) $(LECTOR_DB_LIBS)

# Unit test of the accounting rules (no database, no capture).
$(BUILD)/tests/acct-test: tests/lector/acct-test.c model/acct.c model/range.c model/range_tree.c \
		model/*.h include/memprobe_abi.h
	@mkdir -p $(BUILD)/tests
	$(CC) $(MP_CFLAGS) tests/lector/acct-test.c model/acct.c model/range.c model/range_tree.c -o $@

# Benchmark helper: lector's sink without capture or accounting.
LECTOR_SINK_OBJ := $(patsubst lector/%.c,$(BUILD)/lector/%.o,lector/sink_mysql.c lector/sink_mysql_stmt.c lector/sink_mysql_ranges.c \
		     lector/sink_mysql_read.c lector/sink_mysql_oom.c lector/sink_mysql_names.c lector/sink_mysql_ckpt.c lector/sink_mysql_lease.c \
		     lector/checkpoint.c) $(LECTOR_MODEL_OBJ) $(DB_OBJ)
$(BUILD)/bench/insert-ceiling: bench/lector/insert-ceiling.c bench/lector/synth.c bench/lector/synth.h \
		$(LECTOR_SINK_OBJ) lector/*.h
	@mkdir -p $(BUILD)/bench
	$(CC) $(MP_CFLAGS) $(LECTOR_DB_CFLAGS) bench/lector/insert-ceiling.c bench/lector/synth.c \
		$(LECTOR_SINK_OBJ) -o $@ $(LECTOR_DB_LIBS)

# The simulated fleet (bench/fleet/fleet.c): N hosts of the measured mix
# (capture/synth_gen.c, the generator of lector --source=synthetic) through lector's accounting and MariaDB sink,
# each with its own host and session; bench/fleet/run and tests/lector.
FLEET_SRC := bench/fleet/fleet.c capture/synth_gen.c
$(BUILD)/bench/fleet: $(FLEET_SRC) capture/synth_gen.h $(LECTOR_SINK_OBJ) lector/*.h
	@mkdir -p $(BUILD)/bench
	$(CC) $(MP_CFLAGS) $(LECTOR_DB_CFLAGS) -pthread $(FLEET_SRC) $(LECTOR_SINK_OBJ) -o $@ \
		$(LECTOR_DB_LIBS) -lm
all: $(BUILD)/bench/fleet

# Unit test of the names of cgroups and files (no database, no capture).
$(BUILD)/tests/resolve-test: tests/lector/resolve-test.c lector/resolve_cgroup.c lector/resolve_file.c \
		lector/resolve.h model/clock.h
	@mkdir -p $(BUILD)/tests
	$(CC) $(MP_CFLAGS) tests/lector/resolve-test.c lector/resolve_cgroup.c lector/resolve_file.c -o $@

# Unit test of retention's cutoff and the retain_days bound (no database).
$(BUILD)/tests/retain-test: tests/lector/retain-test.c model/config.c model/config.h lector/retain.h
	@mkdir -p $(BUILD)/tests
	$(CC) $(MP_CFLAGS) tests/lector/retain-test.c model/config.c -o $@

# Benchmark helper: what the commit lock costs per transaction.
$(BUILD)/bench/commit-lock: bench/lector/commit-lock.c $(LECTOR_SINK_OBJ) lector/*.h
	@mkdir -p $(BUILD)/bench
	$(CC) $(MP_CFLAGS) $(LECTOR_DB_CFLAGS) bench/lector/commit-lock.c $(LECTOR_SINK_OBJ) -o $@ $(LECTOR_DB_LIBS)

# Benchmark helper: ns per call of the range set, by the number of ranges.
$(BUILD)/bench/range-ops: bench/lector/range_ops.c model/range.c model/range_tree.c model/range.h \
		model/range_tree.h
	@mkdir -p $(BUILD)/bench
	$(CC) $(MP_CFLAGS) bench/lector/range_ops.c model/range.c model/range_tree.c -o $@

# Benchmark load: one process holding many separate mappings, churning one.
$(BUILD)/bench/map-holder: bench/lector/map_holder.c
	@mkdir -p $(BUILD)/bench
	$(CC) $(MP_CFLAGS) $< -o $@

all: $(BUILD)/bin/lector $(BUILD)/tests/acct-test $(BUILD)/tests/retain-test $(BUILD)/tests/resolve-test \
     $(BUILD)/bench/insert-ceiling $(BUILD)/bench/commit-lock $(BUILD)/bench/map-holder $(BUILD)/bench/range-ops
RUN_BUILD += $(BUILD)/bin/lector

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
	@$(TOP)/bench/lector/variants
	@$(TOP)/bench/lector/checkpoints
bench: bench-lector

# Ingest of the 1M flood with and without a process holding 65k separate
# mappings that changes one per commit.
.PHONY: bench-ranges
bench-ranges:
	$(call deps_then_make,$(BENCH_GROUPS),all)
	@$(TOP)/bench/lector/ranges
bench: bench-ranges

# Ingest rate while --retain-days purges 1M old rows (a day partition dropped,
# or row by row), against no purge.
.PHONY: bench-retain
bench-retain:
	$(call deps_then_make,$(BENCH_GROUPS),all)
	@$(TOP)/bench/lector/retain
bench: bench-retain

# 1, 2 and 4 lectors into one MariaDB at once: cid leases (migration 020)
# against the commit lock they replaced, alternating rounds.
.PHONY: bench-writers
bench-writers:
	$(call deps_then_make,$(BENCH_GROUPS),all)
	@BUILD=$(BUILD) $(TOP)/bench/lector/writers
bench: bench-writers

# What the RSS sampler costs with 1000 live processes, against it off
# (bench/lector/sampler: alone, then end to end through lector and MariaDB).
$(BUILD)/bench/sampler-bench: bench/lector/sampler.c lector/sampler.c lector/procfs.c $(LECTOR_MODEL_OBJ) \
		lector/sampler.h lector/procfs.h model/*.h
	@mkdir -p $(BUILD)/bench
	$(CC) $(MP_CFLAGS) bench/lector/sampler.c lector/sampler.c lector/procfs.c $(LECTOR_MODEL_OBJ) -o $@
all: $(BUILD)/bench/sampler-bench

# Unit test of the sampler on real child processes (no database).
$(BUILD)/tests/sampler-test: tests/lector/sampler-test.c lector/sampler.c lector/procfs.c \
		$(LECTOR_MODEL_OBJ) lector/sampler.h lector/procfs.h model/*.h
	@mkdir -p $(BUILD)/tests
	$(CC) $(MP_CFLAGS) tests/lector/sampler-test.c lector/sampler.c lector/procfs.c $(LECTOR_MODEL_OBJ) -pthread -o $@
all: $(BUILD)/tests/sampler-test

.PHONY: bench-sampler
bench-sampler:
	$(call deps_then_make,$(BENCH_GROUPS),all)
	@$(TOP)/bench/lector/sampler
bench: bench-sampler
