#!/usr/bin/env bash
# The image-upload storm: starts the release server on 127.0.0.1 with the
# demo comune in a temporary directory (the per-address rate limit off, so
# the queue itself is what is measured), issues one exempt certificate to
# get a seal's text, then runs examples/verify_storm.rs against it: many
# concurrent uploads of the worst image (white, as large as the limits let
# through, so every pass of the QR search runs and finds nothing) while one
# client verifies the text one request after the other. It reports the
# server's peak memory (VmHWM), the text verification's p99 idle and
# during the storm, what became of the uploads, and whether the server
# still answers. Stops the server it started. Not part of CI's test step.
#
#   scripts/verify_storm.sh                     # 64 uploads, 20 s, 16000×3000
#   UPLOADS=64 SECONDS_=20 WIDTH=7000 HEIGHT=7000 scripts/verify_storm.sh
#   QUEUE_OFF=1 scripts/verify_storm.sh        # the comparison: no queue
set -euo pipefail
cd "$(dirname "$0")/.."

uploads=${UPLOADS:-64}
seconds=${SECONDS_:-20}
width=${WIDTH:-16000}
height=${HEIGHT:-3000}
port=${PORT:-18182}
base=http://127.0.0.1:$port

command -v curl >/dev/null || { echo "curl is needed" >&2; exit 1; }
cargo build --release --quiet --bin sigillo --example verify_storm
target="${CARGO_TARGET_DIR:-$PWD/target}/release"

binary=$target/sigillo
# QUEUE_OFF=1: as many workers as uploads and no queue, the comparison run.
if [ -n "${QUEUE_OFF:-}" ]; then
    config=$(printf '[server]\nverify_per_minute = 0\nverify_workers = %s\nverify_queue = 0\n' "$uploads")
else
    config=$(printf '[server]\nverify_per_minute = 0\n')
fi
# shellcheck source=scripts/demo_server.sh
. scripts/demo_server.sh "$config"

"$target/examples/verify_storm" --base "$base" --pid "$server_pid" --seal "$scratch/seal.txt" \
    --uploads "$uploads" --seconds "$seconds" --width "$width" --height "$height"
kill -0 "$server_pid" 2>/dev/null && echo "server process still running"
