# bench/part.mk - benchmarks: they print figures, never pass/fail on time.
#   make bench          every benchmark
#   make bench-kernel   mmap+munmap loop in the guest, untraced vs traced

$(BUILD)/bench:
	@mkdir -p $@

# Event generator: threads x mmap+munmap pairs, flat out or paced.
$(BUILD)/bench/mmap-flood: bench/kernel/mmap_flood.c model/clock.h | $(BUILD)/bench
	$(CC) $(MP_CFLAGS) -pthread $< -o $@

.PHONY: bench bench-kernel
bench: bench-kernel

# Every benchmark installs what the benchmarks use (scripts/deps.sh), then
# builds in a sub-make (Makefile: deps_then_make).
BENCH_GROUPS := run kernel tools browser bench

bench-kernel:
	$(call deps_then_make,$(BENCH_GROUPS),all)
	@$(TOP)/bench/kernel/run
