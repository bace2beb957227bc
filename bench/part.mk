# bench/part.mk - benchmarks: they print figures, never pass/fail on time.
#   make bench          every benchmark
#   make bench-kernel   mmap+munmap loop in the guest, untraced vs traced

$(BUILD)/bench:
	@mkdir -p $@

# Event generator: threads x mmap+munmap pairs, flat out or paced.
$(BUILD)/bench/mmap-flood: bench/kernel/mmap_flood.c model/clock.h | $(BUILD)/bench
	$(CC) $(MP_CFLAGS) -pthread $< -o $@

# bench/bpf's unrelated-syscall tax: a getppid loop, and a program that
# does nothing on the sys_exit hook (the slow path's share of the tax).
# clang, the BPF flags and vmlinux.h come from bpf/part.mk.
$(BUILD)/bench/syscall-loop: bench/bpf/syscall_loop.c model/clock.h | $(BUILD)/bench
	$(CC) $(MP_CFLAGS) $< -o $@

$(BUILD)/bench/empty_exit.bpf.o: bench/bpf/empty_exit.bpf.c $(BUILD)/bpf/vmlinux.h | $(BUILD)/bench
	$(BPF_CLANG) $(BPF_CFLAGS) -I$(BUILD)/bpf $(call pkg_flags,--cflags,libbpf,libbpf-dev,bpf) -c $< -o $@

$(BUILD)/bench/empty-exit: bench/bpf/empty_exit.c | $(BUILD)/bench
	$(CC) $(MP_CFLAGS) $< -o $@ -lbpf -lelf -lz

all: $(BUILD)/bench/syscall-loop $(BUILD)/bench/empty_exit.bpf.o $(BUILD)/bench/empty-exit

.PHONY: bench bench-kernel
bench: bench-kernel

# Every benchmark installs what the benchmarks use (scripts/deps.sh), then
# builds in a sub-make (Makefile: deps_then_make).
BENCH_GROUPS := run kernel tools browser bench

bench-kernel:
	$(call deps_then_make,$(BENCH_GROUPS),all)
	@$(TOP)/bench/kernel/run

# The ledger and time travel at scale (bench/ledger/run): a ring file of
# synthetic calls that lector drains (calls, checkpoints and ranges as
# lector writes them), then p50/p99 of ?at=T, /diff and /mappings through
# the server, and ingest with checkpoints against without.
$(BUILD)/bench/ledger-ring: bench/ledger/ledger_ring.c include/memprobe_abi.h | $(BUILD)/bench
	$(CC) $(MP_CFLAGS) $< -o $@

all: $(BUILD)/bench/ledger-ring

.PHONY: bench-ledger
bench-ledger:
	$(call deps_then_make,$(BENCH_GROUPS),all)
	@$(TOP)/bench/ledger/run
bench: bench-ledger

# The simulated fleet (bench/fleet/run; its program is built in
# lector/part.mk, beside the other helpers that link lector's sink).
.PHONY: bench-fleet
bench-fleet:
	$(call deps_then_make,$(BENCH_GROUPS),all)
	@$(TOP)/bench/fleet/run
bench: bench-fleet
