# tests/faults/ - fault tests of the capture path: MariaDB SIGKILLed and
# restarted mid-transaction, lector SIGKILLed (eBPF and ring journal, also
# right after a release to the producer), a ring file changed while read,
# the ring filled faster than it drains, the spill disk full.
# Each asserts nothing is lost or every loss is counted and shown.
TEST_SUITES += $(TOP)/tests/faults/run-tests
