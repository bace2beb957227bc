# bpf/ - the eBPF capture source (CO-RE object + skeleton), the shared
# known-calls workload and checker (tests/workload/), the host eBPF test
# suite (tests/bpf/) and the eBPF benchmark (bench/bpf/).
#
# vmlinux.h is generated here from the running kernel's BTF at build time;
# it and the skeleton live only under build/.

BPF_DIR      := $(BUILD)/bpf
BPF_VMLINUX  := $(BPF_DIR)/vmlinux.h
BPF_OBJ      := $(BPF_DIR)/memprobe.bpf.o
BPF_SKEL     := $(BPF_DIR)/memprobe.skel.h
BPF_CLANG    ?= clang
BPF_CFLAGS   := -O2 -g -target bpf -mcpu=v3 -D__TARGET_ARCH_x86 $(WARN) \
		-Wno-unused-parameter -Wno-missing-declarations
KERNEL_BTF   ?= /sys/kernel/btf/vmlinux
WORKLOAD_DIR := $(BUILD)/workload

$(BPF_DIR) $(WORKLOAD_DIR):
	@mkdir -p $@

$(BPF_VMLINUX): | $(BPF_DIR)
	@test -r $(KERNEL_BTF) || { echo "bpf: $(KERNEL_BTF) missing: the kernel has no BTF" \
		"(CONFIG_DEBUG_INFO_BTF); the eBPF source cannot be built here" >&2; exit 1; }
	@command -v bpftool >/dev/null || { echo "bpf: bpftool missing: run scripts/deps.sh bpf" >&2; exit 1; }
	bpftool btf dump file $(KERNEL_BTF) format c > $@.tmp && mv $@.tmp $@

$(BPF_OBJ): bpf/memprobe.bpf.c bpf/memprobe_mem.bpf.h include/memprobe_abi.h $(BPF_VMLINUX)
	@command -v $(BPF_CLANG) >/dev/null || { echo "bpf: $(BPF_CLANG) missing: run scripts/deps.sh bpf" >&2; exit 1; }
	$(BPF_CLANG) $(BPF_CFLAGS) -I$(BPF_DIR) -I$(TOP)/include $(call pkg_flags,--cflags,libbpf,libbpf-dev,bpf) -c $< -o $@

$(BPF_SKEL): $(BPF_OBJ)
	bpftool gen skeleton $< name memprobe_bpf > $@.tmp && mv $@.tmp $@

# The workload and its checker (tests/workload/).  The mmap+munmap loop
# of the flood test and the benchmark is bench/kernel's mmap-flood, shared
# with the guest benchmark (rule in bench/part.mk).
WORKLOAD_BINS := $(WORKLOAD_DIR)/known-calls $(WORKLOAD_DIR)/check-records \
		 $(WORKLOAD_DIR)/mem-fields

$(WORKLOAD_DIR)/known-calls: tests/workload/known-calls.c tests/workload/workload.h \
		include/memprobe_abi.h | $(WORKLOAD_DIR)
	$(CC) $(MP_CFLAGS) -pthread $< -o $@

$(WORKLOAD_DIR)/check-records: tests/workload/check-records.c tests/workload/workload.h \
		include/memprobe_abi.h | $(WORKLOAD_DIR)
	$(CC) $(MP_CFLAGS) $< -o $@

$(WORKLOAD_DIR)/mem-fields: tests/workload/mem-fields.c include/memprobe_abi.h | $(WORKLOAD_DIR)
	$(CC) $(MP_CFLAGS) $< -o $@

# mp-bpf-probe: drives source_bpf directly (tiny ring without draining,
# lone-call latency) for tests/bpf/run-tests and bench/bpf.
$(BPF_DIR)/mp-bpf-probe: tests/bpf/mp-bpf-probe.c capture/source_bpf.c capture/source.h \
		capture/source_impl.h include/memprobe_abi.h $(BPF_SKEL)
	$(CC) $(MP_CFLAGS) -I$(BPF_DIR) tests/bpf/mp-bpf-probe.c capture/source_bpf.c \
		-o $@ -lbpf -lelf -lz

all: $(BPF_SKEL) $(WORKLOAD_BINS) $(BPF_DIR)/mp-bpf-probe $(BUILD)/bench/mmap-flood

TEST_SUITES += $(TOP)/tests/bpf/run-tests

.PHONY: bench-bpf
bench-bpf:
	$(call deps_then_make,$(BENCH_GROUPS),all)
	@$(TOP)/bench/bpf/run
bench: bench-bpf
