# install/part.mk - make install / make uninstall for real machines.
#   make install   [PREFIX=/usr/local] [DESTDIR=] [SYSCONFDIR=/etc] [SYSTEMD_UNITDIR=...]
#   make uninstall (same variables); configs and the database are kept
# install/install.sh holds the file list and the logic; docs/INSTALL.md
# the how-to.  Units go where systemd looks for units installed by the
# administrator, $(PREFIX)/lib/systemd/system (/usr/local/lib/systemd/system:
# outside the distribution's /lib/systemd/system and clear of
# /etc/systemd/system, which stays the admin's place for overrides); a
# PREFIX systemd does not search (e.g. /opt/memprobe) falls back to
# /etc/systemd/system.

PREFIX          ?= /usr/local
DESTDIR         ?=
SYSCONFDIR      ?= /etc
BINDIR          ?= $(PREFIX)/bin
SBINDIR         ?= $(PREFIX)/sbin
DATADIR         ?= $(PREFIX)/share/memprobe
STATEDIR        ?= /var/lib/memprobe
SYSTEMD_UNITDIR ?= $(if $(filter /usr /usr/local,$(PREFIX)),$(PREFIX)/lib/systemd/system,/etc/systemd/system)

INSTALL_ENV = DESTDIR='$(DESTDIR)' PREFIX='$(PREFIX)' BINDIR='$(BINDIR)' SBINDIR='$(SBINDIR)' \
	      DATADIR='$(DATADIR)' SYSCONFDIR='$(SYSCONFDIR)' STATEDIR='$(STATEDIR)' \
	      SYSTEMD_UNITDIR='$(SYSTEMD_UNITDIR)' CACHE_DIR='$(CACHE_DIR)' TOP='$(TOP)' BUILD='$(BUILD)'

.PHONY: install uninstall
install: $(BUILD)/bin/lector $(BUILD)/memprobe-cat $(BUILD)/memprobe-server frontend/dist/index.html
	@$(INSTALL_ENV) $(TOP)/install/install.sh install

uninstall:
	@$(INSTALL_ENV) $(TOP)/install/install.sh uninstall

TEST_SUITES += $(TOP)/tests/install/run-tests

# The units under a real systemd, in a qemu guest (slow: not in make test).
.PHONY: test-install-systemd
test-install-systemd:
	$(call deps_then_make,run kernel install,all)
	@$(TOP)/tests/run $(TOP)/tests/install/run-systemd-guest
