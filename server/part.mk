# server/ - memprobe-server (CivetWeb + cJSON + libmariadb), its test
# suite and its benchmark.
#   make server        build build/memprobe-server
#   make bench-server  req/s, latency, SSE figures (bench/server/run)

SERVER_SRC  := $(wildcard server/*.c)
SERVER_OBJ  := $(patsubst server/%.c,$(BUILD)/server/%.o,$(SERVER_SRC)) $(BUILD)/server/lector_config.o \
               $(BUILD)/server/lector_acct.o $(BUILD)/server/lector_range.o
SERVER_DEFS  = -DMEMPROBE_PLACEHOLDER_DIR='"$(TOP)/server/placeholder"' $(MARIADB_CFLAGS) \
	       $(call pkg_flags,--cflags,libcjson,libcjson-dev,web) $(call need_header,civetweb.h,libcivetweb-dev,web)

$(BUILD)/server:
	@mkdir -p $@

$(BUILD)/server/%.o: server/%.c server/*.h | $(BUILD)/server
	$(CC) $(MP_CFLAGS) $(SERVER_DEFS) -c $< -o $@

# lector's config loader, linked rather than copied.
$(BUILD)/server/lector_config.o: lector/config.c lector/config.h | $(BUILD)/server
	$(CC) $(MP_CFLAGS) -c $< -o $@

# lector's accounting rules, linked so the process series replays them.
$(BUILD)/server/lector_acct.o: lector/acct.c lector/acct.h lector/range.h | $(BUILD)/server
	$(CC) $(MP_CFLAGS) -c $< -o $@
$(BUILD)/server/lector_range.o: lector/range.c lector/range.h | $(BUILD)/server
	$(CC) $(MP_CFLAGS) -c $< -o $@

$(BUILD)/memprobe-server: $(SERVER_OBJ)
	$(CC) $(CFLAGS) $^ -o $@ -lcivetweb -lcjson $(MARIADB_LIBS) -lpthread

.PHONY: server bench-server
server: $(BUILD)/memprobe-server
all: $(BUILD)/memprobe-server
RUN_BUILD += $(BUILD)/memprobe-server
TEST_SUITES += $(TOP)/tests/server/run-tests

bench-server:
	$(call deps_then_make,$(BENCH_GROUPS),$(BUILD)/memprobe-server $(BUILD)/bench/sse-swarm)
	@$(TOP)/bench/server/run

# Benchmark helper: many SSE clients in one epoll loop.
$(BUILD)/bench/sse-swarm: bench/server/sse_swarm.c
	@mkdir -p $(dir $@)
	$(CC) $(MP_CFLAGS) $< -o $@

# The many-hosts suite (server API per host, lector's commit lock, retention).
include $(TOP)/tests/hosts/part.mk
