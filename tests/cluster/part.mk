# tests/cluster/ - a 3-node Galera cluster on 127.0.0.2-4 (scripts/cluster.sh):
# concurrent migrations, lector failover when a node is SIGKILLed, the node's
# rejoin, exactly-once counts.  Not in `make test` (about 2 min and the
# cluster's ports): make test-cluster.  Included from tests/part.mk.
.PHONY: test-cluster
test-cluster: $(BUILD)/bin/lector $(BUILD)/memprobe-server
	@$(TOP)/scripts/deps.sh cluster
	@$(TOP)/tests/run $(TOP)/tests/cluster/run-tests
