# memprobe - top-level build.  Each part keeps its rules in its own
# fragment (*/part.mk); this file holds the shared settings and the
# commands the README documents.
#
#   make            build the tools, the eBPF source and the dashboard
#   make run        install what running needs, build, start MariaDB (./var), lector, server
#   make stop       stop what make run started
#   make test       install what the tests need, build, run every test
#   make test-fresh the README's quick start in a bare Debian 12 rootfs
#   make module     compile the SystemTap module (KVER= for other headers)
#   make load       compile + insert the module; make unload removes it
#   make bench      run the benchmarks (figures, not pass/fail)
#   make fuzz       run every fuzzer for FUZZ_SECONDS (default 300)
#   make install    install for this machine (PREFIX, DESTDIR); uninstall
#   make deps       install every package any of these uses (scripts/deps.sh --help)
#   (README.md is the manual; docs/MANUAL.es.md the Spanish one)

SHELL       := /bin/bash
TOP         := $(CURDIR)
BUILD       := $(TOP)/build
CACHE_DIR   ?= /var/cache/memprobe
CC          ?= gcc
CFLAGS      ?= -O2 -g
WARN        := -Wall -Wextra -Werror
MP_CFLAGS   := -std=gnu11 $(WARN) $(CFLAGS) -I$(TOP)/include -I$(TOP)/model -I$(TOP)/capture -I$(TOP)/db -I$(TOP)/lector
export TOP BUILD CACHE_DIR

.PHONY: all deps test test-unit check-deps clean help
all:

help:
	@sed -n '5,16p' Makefile | sed 's/^# \{0,1\}//'

# Installing comes before detecting.  A command that installs packages
# runs scripts/deps.sh with its groups, then builds in a sub-make: nothing
# is probed before the install, even under make -j.  The flags of the
# installed libraries are looked up when a recipe runs, never while make
# reads the makefiles, and a missing library stops the build with its
# package and the deps.sh group that installs it.
#   $(call deps_then_make,GROUPS,TARGETS)   (recipe lines)
define deps_then_make
	@$(TOP)/scripts/deps.sh $(1)
	@$(MAKE) --no-print-directory $(2)
endef
#   $(call pkg_flags,--cflags|--libs,PKG-CONFIG NAME,DEBIAN PACKAGE,GROUP)
pkg_flags = $(if $(shell command -v pkg-config),,$(error pkg-config missing: install pkg-config \
	(scripts/deps.sh build)))$(if $(shell pkg-config --exists $(2) && echo y),$(shell pkg-config $(1) $(2)),$(error \
	$(2) not found by pkg-config: install $(3) (scripts/deps.sh $(4))))
#   $(call need_header,HEADER,DEBIAN PACKAGE,GROUP): nothing, or that error
need_header = $(if $(shell $(CC) -E -include $(1) -x c /dev/null >/dev/null 2>&1 && echo y),,$(error \
	$(1) not found: install $(2) (scripts/deps.sh $(3))))
MARIADB_CFLAGS = $(call pkg_flags,--cflags,libmariadb,libmariadb-dev,db)
MARIADB_LIBS   = $(call pkg_flags,--libs,libmariadb,libmariadb-dev,db)

# make deps: every group (running, the module, tests, benchmarks).
deps:
	@$(TOP)/scripts/deps.sh all

$(BUILD):
	@mkdir -p $@

include $(sort $(wildcard $(TOP)/*/part.mk))

# Every suite prints TAP; tests/run adds them up and prints the
# "N passed, N failed" closing line.
test:
	$(call deps_then_make,test,all $(TEST_BUILD))
	@$(TOP)/tests/run $(TEST_SUITES)

clean:
	rm -rf $(BUILD)
