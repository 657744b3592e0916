#!/usr/bin/env bash
# Scaling bench: an I/O-bound simulated world (200 domains, 30 ms before every SMTP reply) and 2,000 people
# in 20 batches, enriched by one api process and 1, 2 and 4 worker processes (Release) on a throw-away
# PostgreSQL, a fresh database per run. Prints items per second per run, the ratio over one worker (target:
# 1.8x at 2, 3x at 4) and the most sessions any mail host had open at once against Smtp:MaxSessionsPerHost
# (from the world's session log); then a LIMITED series, Workers:Concurrency 4 per worker process
# (--limited-concurrency), where workers are I/O-bound. Exit code 1 if the limit was exceeded or an item lost.
# See bench/README.md.
#
#   bench/run-scaling-bench.sh
#   bench/run-scaling-bench.sh --workers 1,2,4,8 --concurrency 16
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/cluster.sh"
run_cluster_bench --scenario scaling --workers 1,2,4 --items 2000 --batches 20 --domains 200 --reply-delay-ms 30 -- "$@"
