#!/usr/bin/env bash
# Runs every check and test of Baton. This is the README's test command; .ci/run calls it.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== format"
cargo fmt --all -- --check
echo "== lint"
cargo clippy --workspace --all-targets -- -D warnings
echo "== benchmarks still run (quick)"
cargo bench -p baton-flow --bench steps -- --quick
echo "== example flows: validate and run their scripted tests"
cargo build -q -p baton
baton="${CARGO_TARGET_DIR:-target}/debug/baton"
for flow in examples/*.flow.json; do
  "$baton" validate "$flow"
  "$baton" test "$flow"
done
echo "== unit, integration and property tests"
cargo test --workspace
