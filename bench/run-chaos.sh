#!/usr/bin/env bash
# Chaos bench: one api and three worker processes (Release) on a throw-away PostgreSQL against a simulated
# world in the bench's process (200 domains, replies at once); 2,000 people in 20 batches while a random
# worker is killed with SIGKILL 20 times and started again. Prints whether every item completed and was
# charged exactly once, what is left reserved, the time from each kill to the completion of the killed
# worker's items (median, max) and the lease take-overs. Exit code 1 if anything was lost or charged twice.
# The CI version is tests/PeopleEnrich.Tests/Cluster/PostgresChaosTests.cs. See bench/README.md.
#
#   bench/run-chaos.sh                         # defaults: Workers:LeaseDuration 30 s (production's)
#   bench/run-chaos.sh --kills 40 --lease-seconds 6 --keep-logs
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/cluster.sh"
run_cluster_bench --scenario chaos --workers 3 --items 2000 --batches 20 --kills 20 -- "$@"
