# tests/faults/ - fault tests of the capture path (issue 7): MariaDB
# SIGKILLed and restarted mid-transaction, lector SIGKILLed (eBPF and ring
# journal), the ring filled faster than it drains, the spill disk full.
# Each asserts nothing is lost or every loss is counted and shown.
TEST_SUITES += $(TOP)/tests/faults/run-tests
