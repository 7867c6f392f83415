#!/usr/bin/env bash
# The main job, for now: an rvirsh session on the embedded test driver that
# defines a guest, starts it, lists the host's guests and shows the new one.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release -q -p rvirsh
exec target/release/rvirsh -c test:///default \
    "define examples/demo-guest.xml; start demo; list --all; dominfo demo"
