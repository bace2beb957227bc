# server/ - memprobe-server (CivetWeb + cJSON + libmariadb), its test
# suite and its benchmark.
#   make server        build build/memprobe-server
#   make bench-server  req/s, latency, SSE figures (bench/server/run)

SERVER_SRC  := $(wildcard server/*.c)
SERVER_OBJ  := $(patsubst server/%.c,$(BUILD)/server/%.o,$(SERVER_SRC)) $(MODEL_OBJ) $(BUILD)/db/db_core.o
SERVER_DEFS  = -DMEMPROBE_PLACEHOLDER_DIR='"$(TOP)/server/placeholder"' $(MARIADB_CFLAGS) \
	       $(call pkg_flags,--cflags,libcjson,libcjson-dev,web) $(call need_header,civetweb.h,libcivetweb-dev,web) \
	       $(call need_header,openssl/evp.h,libssl-dev,web)

$(BUILD)/server:
	@mkdir -p $@

# model/'s headers too: proc_series.c embeds struct acct_proc and range_set;
# db/'s: the pool (db.c) sits on db/db_core.c.
$(BUILD)/server/%.o: server/%.c server/*.h model/*.h db/*.h include/memprobe_abi.h | $(BUILD)/server
	$(CC) $(MP_CFLAGS) $(SERVER_DEFS) -c $< -o $@

# model/ (config, accounting, ranges) and db/db_core.c are linked, shared
# with lector, not copied.
$(BUILD)/memprobe-server: $(SERVER_OBJ)
	$(CC) $(CFLAGS) $^ -o $@ -lcivetweb -lcjson $(call pkg_flags,--libs,libcrypto,libssl-dev,web) $(MARIADB_LIBS) -lpthread

.PHONY: server bench-server
server: $(BUILD)/memprobe-server
all: $(BUILD)/memprobe-server
RUN_BUILD += $(BUILD)/memprobe-server
TEST_SUITES += $(TOP)/tests/server/run-tests

bench-server:
	$(call deps_then_make,$(BENCH_GROUPS),$(BUILD)/memprobe-server $(BUILD)/bench/sse-swarm $(BUILD)/bin/lector \
		$(BUILD)/bench/mmap-flood $(BUILD)/bench/auth-cost)
	@$(TOP)/bench/server/run

# Benchmark helper: the access check alone, ns per request.
$(BUILD)/bench/auth-cost: bench/server/auth_cost.c server/auth.c server/*.h
	@mkdir -p $(dir $@)
	$(CC) $(MP_CFLAGS) $(SERVER_DEFS) -Iserver bench/server/auth_cost.c server/auth.c -o $@ \
		-lcivetweb -lcjson $(call pkg_flags,--libs,libcrypto,libssl-dev,web)

# Benchmark helper: many SSE clients in one epoll loop.
$(BUILD)/bench/sse-swarm: bench/server/sse_swarm.c
	@mkdir -p $(dir $@)
	$(CC) $(MP_CFLAGS) $< -o $@

# The many-hosts suite (server API per host, lector's commit lock, retention).
include $(TOP)/tests/hosts/part.mk
