# bench/part.mk - benchmarks: they print figures, never pass/fail on time.
#   make bench          every benchmark
#   make bench-kernel   mmap+munmap loop in the guest, untraced vs traced

$(BUILD)/mmap-loop: bench/kernel/mmap_loop.c | $(BUILD)
	$(CC) $(MP_CFLAGS) -pthread $< -o $@

.PHONY: bench bench-kernel
bench: bench-kernel

bench-kernel: deps
	@$(TOP)/bench/kernel/run
