#!/usr/bin/env bash
# Everything CI checks, from a clean checkout: install the reference tools,
# check formatting and lints, build, and run every test.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings

echo "== cargo test"
cargo test --workspace 2>&1 | tee target/test-output.txt

echo "== fuzz (short pass, release)"
scripts/fuzz.sh 200000
