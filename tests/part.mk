# tests/part.mk - test suites of the tests/ tree and the tools they need.
#   make test-kernel   the guest kernel test alone (qemu TCG, Debian kernel)
#   make test-cluster  lector failover on a 3-node Galera cluster (tests/cluster)

# make test-cluster: a 3-node Galera cluster, failover (not in make test)
include $(TOP)/tests/cluster/part.mk
# fault tests (lector, MariaDB, spill disk), before the long guest suite
include $(TOP)/tests/faults/part.mk
# calls sharded through a Spider head (make test-spider, not in make test)
include $(TOP)/tests/spider/part.mk
# The mapping ledger and time travel against the test's own oracle: strace
# and a replay from zero (eBPF, a private MariaDB, the server; ~1-2 min).
TEST_SUITES += $(TOP)/tests/ledger/run-tests
TEST_SUITES += $(TOP)/tests/kernel/run-tests
# The eBPF source in the same guest kernel (fexit, which this host refuses;
# the only 6.1 kernel the eBPF source meets): about 30 s.
TEST_SUITES += $(TOP)/tests/bpf/run-guest

# The README's quick start in a bare Debian 12 rootfs (mmdebstrap), then
# make test with a few suites there (tests/fresh/run --help).
TEST_SUITES += $(TOP)/tests/fresh/run
.PHONY: test-fresh
test-fresh:
	@$(TOP)/scripts/deps.sh fresh
	@$(TOP)/tests/run $(TOP)/tests/fresh/run

$(BUILD)/tests:
	@mkdir -p $@

# The ledger oracle's workload: known calls in numbered steps.
$(BUILD)/tests/ledger-steps: tests/ledger/ledger-steps.c | $(BUILD)/tests
	$(CC) $(MP_CFLAGS) $< -o $@

all: $(BUILD)/tests/ledger-steps

# Test oracle for the ring: reads /proc/memprobe and raw captures.
$(BUILD)/tests/ringcheck: tests/kernel/ringcheck.c include/memprobe_abi.h | $(BUILD)/tests
	$(CC) $(MP_CFLAGS) $< -o $@

# Who may open the ring, exec mappings, waiters across an unload (guest).
$(BUILD)/tests/ringguard: tests/kernel/ringguard.c include/memprobe_abi.h | $(BUILD)/tests
	$(CC) $(MP_CFLAGS) $< -o $@

# Everything the guest test runs, built on the host (the guest's root is
# read-only).  The workload and its checker come from tests/workload/
# (rules in bpf/part.mk), the flood from bench/part.mk.
KERNEL_TEST_TOOLS = $(BUILD)/bin/lector $(BUILD)/memprobe-cat $(BUILD)/tests/ringcheck $(BUILD)/tests/ringguard \
		    $(BUILD)/bench/mmap-flood \
		    $(BUILD)/workload/known-calls $(BUILD)/workload/check-records $(BUILD)/workload/mem-fields

.PHONY: kernel-test-tools test-kernel
kernel-test-tools: $(KERNEL_TEST_TOOLS)

test-kernel:
	@$(TOP)/scripts/deps.sh run kernel
	@$(TOP)/tests/run $(TOP)/tests/kernel/run-tests
