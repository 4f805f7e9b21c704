# Sourced by the load scripts: starts the release `sigillo` in a temporary
# directory with the demo comune on 127.0.0.1:$port, the `sigillo.toml`
# given as $1 (its text), and issues one exempt residenza through the API.
# Sets: scratch (the directory, removed at exit), server_pid (stopped at
# exit), key (the demo API key), request (the request's JSON), and writes
# the seal's text to $scratch/seal.txt. Needs $binary, $port and $base.

scratch=$(mktemp -d)
server_pid=
cleanup() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$scratch"
}
trap cleanup EXIT

printf '%s' "$1" >"$scratch/sigillo.toml"
(cd "$scratch" && RUST_LOG=warn exec "$binary" serve --listen "127.0.0.1:$port") \
    >"$scratch/server.txt" 2>"$scratch/server.log" &
server_pid=$!
for _ in $(seq 1 120); do
    grep -q '^Chiave API demo' "$scratch/server.txt" 2>/dev/null && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$scratch/server.txt" "$scratch/server.log" >&2; exit 1; }
    sleep 1
done
key=$(sed -n 's/^Chiave API demo (ruolo sportello): //p' "$scratch/server.txt")
[ -n "$key" ] || { echo "the server printed no API key" >&2; exit 1; }

# One exempt certificate, issued at once, and its seal's text.
request=$(curl -sf -X POST "$base/api/v1/requests" -H "Authorization: Bearer $key" \
    -H 'Content-Type: application/json' \
    -d '{"kind":"residenza","holder":"PRSRRT80H69G504L","requester":"PRSRRT80H69G504L","use":"esente:7"}')
python3 - "$scratch/sigillo-data/sigillo.db" >"$scratch/seal.txt" <<'PY'
import sqlite3, sys
seal = sqlite3.connect(sys.argv[1]).execute(
    "SELECT seal FROM certificates ORDER BY created_at DESC LIMIT 1").fetchone()[0]
# The seal's text form: a COSE_Sign1 starts with 0xD2, so no leading zero digits.
print(int.from_bytes(seal, "big"), end="")
PY
[ -s "$scratch/seal.txt" ] || { echo "no seal: $request" >&2; exit 1; }
