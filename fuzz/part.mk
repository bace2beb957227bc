# fuzz/ - libFuzzer harnesses (clang, ASan + UBSan) of everything that
# parses bytes memprobe did not produce itself, and the sanitizer builds
# of the C tests and daemons (tests/fuzz/run-tests runs both).
#   make fuzz                 every harness for FUZZ_SECONDS (default 300)
#   make fuzz FUZZ_TARGETS=ring FUZZ_SECONDS=60
#   make fuzz-build           build/fuzz/<target> only

FUZZ_CC       := clang
FUZZ_SAN      := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS    = -std=gnu11 -Wall -Wextra -Werror -g -O1 -fno-omit-frame-pointer $(FUZZ_SAN) \
		 -I$(TOP)/include -I$(TOP)/model -I$(TOP)/capture -I$(TOP)/db -I$(TOP)/lector -I$(TOP)/server $(MARIADB_CFLAGS)
FUZZ_TARGETS  ?= ring spill acct http
FUZZ_SECONDS  ?= 300
FUZZ_DIR      := $(BUILD)/fuzz

FUZZ_SRC_ring  := fuzz/ring_fuzz.c capture/source_ring.c capture/ring_file.c
FUZZ_SRC_spill := fuzz/spill_fuzz.c lector/queue.c
FUZZ_SRC_acct  := fuzz/acct_fuzz.c model/acct.c model/range.c model/range_tree.c
FUZZ_SRC_http  := fuzz/http_fuzz.c fuzz/http_model.c fuzz/fake_server.c server/http.c server/params.c server/json.c server/rows.c \
		  server/cache.c server/auth.c \
		  server/api_proc.c server/api_groups.c server/api_oom.c server/api_calls.c server/sse.c server/sse_batch.c server/watermark.c \
		  server/proc_series.c server/timetravel.c server/tt_set.c server/tt_checkpoints.c server/tt_fold.c server/tt_snap.c \
		  server/api_at.c server/api_mappings.c server/ledger.c model/acct.c model/range.c model/range_tree.c
FUZZ_LIBS_http := -lcivetweb -lcjson -lcrypto -lpthread
FUZZ_LIBS_ring := -Wl,--wrap=mmap # fuzz/ring_fuzz.c changes the file between two mappings

FUZZ_HDRS := $(wildcard fuzz/*.h) $(wildcard lector/*.h) $(wildcard model/*.h) $(wildcard capture/*.h) $(wildcard db/*.h) $(wildcard server/*.h) include/memprobe_abi.h

# One rule per target (no secondary expansion: it would apply to every
# part.mk included after this one).
define FUZZ_RULE
$(FUZZ_DIR)/$(1): $(FUZZ_SRC_$(1)) $(FUZZ_HDRS)
	@mkdir -p $(FUZZ_DIR)
	$(FUZZ_CC) $$(FUZZ_CFLAGS) -fsanitize=fuzzer $(FUZZ_SRC_$(1)) -o $$@ $(FUZZ_LIBS_$(1))
endef
$(foreach t,ring spill acct http,$(eval $(call FUZZ_RULE,$(t))))

FUZZ_BINS := $(addprefix $(FUZZ_DIR)/,$(FUZZ_TARGETS))

.PHONY: fuzz fuzz-build asan-build
fuzz-build: $(FUZZ_BINS)

# ASan + UBSan builds of the C test tools and of the daemons, in build/asan/
# (tests/fuzz/run-tests runs them).  known-calls is not among them: it is
# the workload whose own mmap/brk calls are checked, and a sanitizer
# runtime would add calls of its own.
ASAN_DIR    := $(BUILD)/asan
ASAN_CFLAGS  = $(FUZZ_CFLAGS) -I$(BUILD)/bpf
ASAN_SOURCE := capture/source.c capture/source_ring.c capture/ring_file.c capture/source_bpf.c \
	       capture/source_synth.c capture/synth_gen.c
# by wildcard: lector/, model/ and server/ part.mk are read after this file
ASAN_LECTOR := $(wildcard lector/*.c) $(wildcard model/*.c)
ASAN_SERVER := $(wildcard server/*.c)
ASAN_DB      = $(MARIADB_LIBS)
ASAN_BINS   := $(addprefix $(ASAN_DIR)/,acct-test ring-file-test ringcheck check-records \
		memprobe-cat lector memprobe-server)

$(ASAN_DIR)/acct-test: tests/lector/acct-test.c model/acct.c model/range.c model/range_tree.c \
		$(FUZZ_HDRS)
	@mkdir -p $(ASAN_DIR)
	$(FUZZ_CC) $(ASAN_CFLAGS) $(filter %.c,$^) -o $@
$(ASAN_DIR)/ring-file-test: tests/stap/ring-file-test.c $(ASAN_SOURCE) $(BPF_SKEL) $(FUZZ_HDRS)
	@mkdir -p $(ASAN_DIR)
	$(FUZZ_CC) $(ASAN_CFLAGS) $(filter %.c,$^) -o $@ $(LECTOR_LIBS)
$(ASAN_DIR)/ringcheck: tests/kernel/ringcheck.c include/memprobe_abi.h
	@mkdir -p $(ASAN_DIR)
	$(FUZZ_CC) $(ASAN_CFLAGS) $< -o $@
$(ASAN_DIR)/check-records: tests/workload/check-records.c tests/workload/workload.h \
		include/memprobe_abi.h
	@mkdir -p $(ASAN_DIR)
	$(FUZZ_CC) $(ASAN_CFLAGS) $< -o $@
$(ASAN_DIR)/memprobe-cat: tools/memprobe_cat.c model/options.c $(ASAN_SOURCE) $(BPF_SKEL) $(FUZZ_HDRS)
	@mkdir -p $(ASAN_DIR)
	$(FUZZ_CC) $(ASAN_CFLAGS) $(filter %.c,$^) -o $@ $(LECTOR_LIBS)
$(ASAN_DIR)/lector: $(ASAN_LECTOR) $(ASAN_SOURCE) $(wildcard db/*.c) $(BUILD)/db/migrations_gen.c \
		$(BPF_SKEL) $(FUZZ_HDRS)
	@mkdir -p $(ASAN_DIR)
	$(FUZZ_CC) $(ASAN_CFLAGS) -pthread $(filter %.c,$^) -o $@ $(LECTOR_LIBS) $(ASAN_DB)
$(ASAN_DIR)/memprobe-server: $(ASAN_SERVER) $(wildcard model/*.c) db/db_core.c $(FUZZ_HDRS)
	@mkdir -p $(ASAN_DIR)
	$(FUZZ_CC) $(ASAN_CFLAGS) $(SERVER_DEFS) $(filter %.c,$^) -o $@ \
		-lcivetweb -lcjson -lcrypto $(ASAN_DB) -lpthread

asan-build: $(ASAN_BINS)

# New inputs go to build/fuzz/corpus-new/<target>, never into the tree.
fuzz: fuzz-build
	@$(TOP)/fuzz/run --seconds=$(FUZZ_SECONDS) $(FUZZ_TARGETS)

TEST_SUITES += $(TOP)/tests/fuzz/run-tests
