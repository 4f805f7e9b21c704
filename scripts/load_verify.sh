#!/usr/bin/env bash
# Load benchmark of verification over HTTP. Starts the release server on
# 127.0.0.1 with the demo comune in a temporary directory (the rate limit
# off), issues one exempt certificate through the API, then runs wrk
# against, in the same session:
#   (a) GET /health                      the baseline: HTTP and routing only
#   (b) POST /api/v1/verify, seal text   parse, checklist, registry lookup
#   (c) POST /api/v1/verify, the PDF     plus the PDF's reading and PAdES check
# and stops the server it started. Not part of CI's test step.
#
#   scripts/load_verify.sh                 # 12 s a run, 2 threads, 16 connections
#   DURATION=15s CONNECTIONS=32 scripts/load_verify.sh
set -euo pipefail
cd "$(dirname "$0")/.."

duration=${DURATION:-12s}
threads=${THREADS:-2}
connections=${CONNECTIONS:-16}
port=${PORT:-18181}
base=http://127.0.0.1:$port

command -v wrk >/dev/null || { echo "wrk is needed (apt-get install wrk)" >&2; exit 1; }
command -v curl >/dev/null || { echo "curl is needed" >&2; exit 1; }

cargo build --release --quiet --bin sigillo
binary="${CARGO_TARGET_DIR:-$PWD/target}/release/sigillo"

# shellcheck source=scripts/demo_server.sh
. scripts/demo_server.sh "$(printf '[server]\nverify_per_minute = 0\n')"
id=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])' <<<"$request")
curl -sf -H "Authorization: Bearer $key" -o "$scratch/certificato.pdf" "$base/api/v1/requests/$id/pdf"

# Both inputs must verify as authentic and valid before they are measured.
for input in "text/plain:$scratch/seal.txt" "application/pdf:$scratch/certificato.pdf"; do
    outcome=$(curl -sf -X POST "$base/api/v1/verify" -H "Content-Type: ${input%%:*}" \
        --data-binary "@${input#*:}" | python3 -c 'import json,sys; r=json.load(sys.stdin); print(r["outcome"], r["status"]["state"])')
    [ "$outcome" = "authentic valid" ] || { echo "${input%%:*}: $outcome" >&2; exit 1; }
done
echo "Seal: $(wc -c <"$scratch/seal.txt") digits; PDF: $(wc -c <"$scratch/certificato.pdf") bytes"

cat >"$scratch/post.lua" <<'EOF'
local file = assert(io.open(os.getenv("BODY_FILE"), "rb"))
wrk.method = "POST"
wrk.body = file:read("*a")
file:close()
wrk.headers["Content-Type"] = os.getenv("BODY_TYPE")
EOF

run() {
    echo
    echo "=== $1 ==="
    shift
    echo "wrk -t$threads -c$connections -d$duration --latency $*"
    wrk "-t$threads" "-c$connections" "-d$duration" --latency "$@"
}
run "(a) GET /health" "$base/health"
BODY_FILE=$scratch/seal.txt BODY_TYPE=text/plain \
    run "(b) POST /api/v1/verify, seal text" -s "$scratch/post.lua" "$base/api/v1/verify"
BODY_FILE=$scratch/certificato.pdf BODY_TYPE=application/pdf \
    run "(c) POST /api/v1/verify, PDF" -s "$scratch/post.lua" "$base/api/v1/verify"
