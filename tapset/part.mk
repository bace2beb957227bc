# tapset/part.mk - the SystemTap module: make module / load / unload.
#
#   make module [KVER=...]   build/memprobe.ko for KVER's headers (default: running kernel)
#   make load [RING_RECORDS=N]  check the kernel can take it, build, staprun -D
#   make unload              stop that staprun; the module goes with it
#
# The scripts hold the logic and the error messages (scripts/stap-*.sh).

KVER         ?= $(shell uname -r)
RING_RECORDS ?=
MODULE_KO    := $(BUILD)/memprobe.ko

.PHONY: module load unload

module:
	@KVER=$(KVER) $(TOP)/scripts/deps.sh stap
	@$(TOP)/scripts/stap-build.sh --kver $(KVER) --out $(MODULE_KO)

# The load check runs first so a kernel without module support fails fast,
# before an install and a compile it could never use.  Both install the
# "stap" group of scripts/deps.sh (SystemTap, the kernel's headers).
load:
	@$(TOP)/scripts/stap-load.sh check >/dev/null
	@KVER=$(KVER) $(TOP)/scripts/deps.sh stap
	@$(TOP)/scripts/stap-build.sh --kver $(KVER) --out $(MODULE_KO)
	@$(TOP)/scripts/stap-load.sh load --ko $(MODULE_KO) $(if $(RING_RECORDS),--ring-records $(RING_RECORDS))

unload:
	@$(TOP)/scripts/stap-load.sh unload

# Host-side tests of this part (errors, runtime patch, module build,
# memprobe-cat's format); the in-kernel behaviour is tests/kernel/.
TEST_SUITES += $(TOP)/tests/stap/run-host

$(BUILD)/tests/comm-helper: tests/stap/comm-helper.c
	@mkdir -p $(dir $@)
	$(CC) $(MP_CFLAGS) $< -o $@

# The ring reader against ring files (no kernel needed).
$(BUILD)/tests/ring-file-test: tests/stap/ring-file-test.c $(CAPTURE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(MP_CFLAGS) $(filter %.c %.o,$^) -o $@ $(CAPTURE_LIBS)

TEST_BUILD += $(BUILD)/tests/comm-helper $(BUILD)/tests/ring-file-test $(BUILD)/memprobe-cat
