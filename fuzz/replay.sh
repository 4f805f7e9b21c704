#!/usr/bin/env bash
# Builds the fuzz targets on a stable toolchain and replays the committed seed
# corpus through each: a regression check that needs neither nightly nor
# cargo-fuzz. Fuzzing itself: see fuzz/README.md.
set -euo pipefail
cd "$(dirname "$0")"
cargo build --release --locked --quiet
# The fuzz workspace builds into its own target directory unless one is set.
bin="${CARGO_TARGET_DIR:-$PWD/target}/release"
artifacts=$(mktemp -d)
trap 'rm -rf "$artifacts"' EXIT
for target in seal_text cose_parse pdf_reader image_reader; do
    "$bin/$target" -runs=0 -artifact_prefix="$artifacts/" "corpus/$target"
    echo "fuzz replay: $target corpus ($(ls "corpus/$target" | wc -l) inputs) passed"
done
