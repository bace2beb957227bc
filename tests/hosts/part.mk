# tests/hosts/ - many hosts, one database: two lectors at once, the API
# per host, retention (lector --retain-days).  Included from server/part.mk.
TEST_SUITES += $(TOP)/tests/hosts/run-tests
