# memprobe - top-level build.  Each part keeps its rules in its own
# fragment (*/part.mk); this file holds the shared settings and the
# commands the README documents.
#
#   make            build the tools, the eBPF source and the dashboard
#   make run        install, build, start MariaDB (./var), lector, server
#   make stop       stop what make run started
#   make test       install what is missing, build, run every test
#   make module     compile the SystemTap module (KVER= for other headers)
#   make load       compile + insert the module; make unload removes it
#   make bench      run the benchmarks (figures, not pass/fail)
#   make fuzz       run every fuzzer for FUZZ_SECONDS (default 300)
#   make install    install for this machine (PREFIX, DESTDIR); uninstall
#   (README.md is the manual; docs/MANUAL.es.md the Spanish one)

SHELL       := /bin/bash
TOP         := $(CURDIR)
BUILD       := $(TOP)/build
CACHE_DIR   ?= /var/cache/memprobe
CC          ?= gcc
CFLAGS      ?= -O2 -g
WARN        := -Wall -Wextra -Werror
MP_CFLAGS   := -std=gnu11 $(WARN) $(CFLAGS) -I$(TOP)/include -I$(TOP)/lector
export TOP BUILD CACHE_DIR

.PHONY: all deps test test-unit check-deps clean help
all:

help:
	@sed -n '5,14p' Makefile | sed 's/^# \{0,1\}//'

# Install the Debian packages a step needs, only those missing.
deps:
	@$(TOP)/scripts/deps.sh all

$(BUILD):
	@mkdir -p $@

include $(sort $(wildcard $(TOP)/*/part.mk))

# Every suite prints TAP; tests/run adds them up and prints the
# "N passed, N failed" closing line.
test: deps all
	@$(TOP)/tests/run $(TEST_SUITES)

clean:
	rm -rf $(BUILD)
