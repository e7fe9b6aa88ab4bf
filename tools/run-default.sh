#!/usr/bin/env bash
# Quick start 1: set up, build, run the default workload on the default config.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
tools/build.sh Release
exec build/bin/accelvp run "$@"
