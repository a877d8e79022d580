#!/usr/bin/env bash
# Runs every check and test of Baton. This is the README's test command; .ci/run calls it.
set -euo pipefail
cd "$(dirname "$0")/.."

# The web app is built first: the server embeds web/dist when it is compiled.
echo "== web app: install, type-check, build"
(cd web && npm ci --no-audit --no-fund && npm run build)
echo "== web app: unit tests"
(cd web && npm test)
# The embedding model for the AI tests (they skip without it outside CI and fail in CI).
if [ -z "${BATON_MINILM_DIR:-}" ]; then
  if dir="$(./scripts/fetch-minilm.sh)"; then
    export BATON_MINILM_DIR="$dir"
  else
    echo "warning: no embedding model (scripts/fetch-minilm.sh failed); embedding tests will skip" >&2
  fi
fi

# The smallest language model (SmolLM2-135M) for the embedded-model tests (they skip without it
# outside CI and fail in CI). BATON_TEST_MODEL, not BATON_MODEL: the browser tests' servers run
# without a model.
if [ -z "${BATON_TEST_MODEL:-}" ]; then
  if model="$(./scripts/fetch-model.sh smollm2-135m)"; then
    export BATON_TEST_MODEL="$model"
  else
    echo "warning: no language model (scripts/fetch-model.sh failed); embedded-model tests will skip" >&2
  fi
fi

echo "== format"
cargo fmt --all -- --check
echo "== lint"
cargo clippy --workspace --all-targets -- -D warnings
echo "== benchmarks still run (quick)"
cargo bench -p baton-flow --bench steps -- --quick
echo "== example flows: validate and run their scripted tests"
cargo build -q -p baton
baton="$(cd "${CARGO_TARGET_DIR:-target}" && pwd)/debug/baton"
for flow in examples/*.flow.json; do
  "$baton" validate "$flow"
  "$baton" test "$flow"
done
echo "== unit, integration and property tests"
cargo test --workspace
echo "== the embedded model on llama.cpp (cargo feature llama-cpp: needs cmake and libclang)"
if command -v cmake >/dev/null 2>&1 && { [ -n "${LIBCLANG_PATH:-}" ] || compgen -G "/usr/lib/llvm-*/lib/libclang*.so*" >/dev/null; }; then
  cargo clippy -p baton-ai --features llama-cpp --all-targets -- -D warnings
  cargo test -p baton-ai --features llama-cpp --test generate
  cargo test -p baton-server --features baton-ai/llama-cpp --test embedded_model
elif [ "${CI:-}" = true ]; then
  echo "error: cmake and libclang are needed in CI to build llama.cpp (apt-get install cmake libclang-dev)" >&2
  exit 1
else
  echo "skipped: no cmake or libclang (apt-get install cmake libclang-dev)"
fi
echo "== web app in a browser (chromium), against baton serve"
passed=0
failed=0
for test in web/e2e/*.e2e.mjs; do
  if (cd web && BATON_BIN="$baton" node "e2e/$(basename "$test")"); then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAILED: $test"
  fi
done
echo "browser tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
