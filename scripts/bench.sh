#!/usr/bin/env bash
# The main job on a fresh machine: install what is missing, build, and compare
# every allocator found on the standard workloads (globalloc bench).
# Extra arguments go to `globalloc bench` (e.g. --quick, --only ...).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
exec build/bin/globalloc bench --out results "$@"
