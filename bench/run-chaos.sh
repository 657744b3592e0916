#!/usr/bin/env bash
# Chaos bench: one api and three worker processes (Release) on a throw-away PostgreSQL against a simulated
# world in the bench's process (200 domains, 30 ms before every SMTP reply: I/O-bound); 2,000 people in 20
# batches while a random worker holding items is killed with SIGKILL 20 times (never the last one living) and
# started again in the background (the next kill does not wait for it). Prints whether every item completed
# and was charged exactly once, what is left reserved, the kills made, the take-over time per kill (median,
# max), restart -> first claim, whether every killed item was claimed again within a lease (the bar), and the
# lease take-overs. Exit code 1 if anything was lost or charged twice, or fewer kills were made than asked.
# The CI version is tests/PeopleEnrich.Tests/Cluster/PostgresChaosTests.cs. See bench/README.md.
#
#   bench/run-chaos.sh                         # defaults: Workers:LeaseDuration 30 s (production's)
#   bench/run-chaos.sh --kills 40 --lease-seconds 6 --keep-logs
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/cluster.sh"
run_cluster_bench --scenario chaos --workers 3 --items 2000 --batches 20 --kills 20 --reply-delay-ms 30 -- "$@"
