"""The multi-node run (``make test-cluster``): faults on the cluster of ``infra/cluster.sh``."""
