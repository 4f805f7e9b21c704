#!/usr/bin/env bash
# Copies the parts of the npm package bootstrap-italia that the pages use into
# web/static/bootstrap-italia/ (see the README there). Run from the
# repository's root with the version to take, e.g. 2.18.3.
set -euo pipefail
version=${1:?usage: scripts/vendor_bootstrap_italia.sh VERSION}
out=web/static/bootstrap-italia
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "bootstrap-italia@$version" >/dev/null && tar xzf ./*.tgz)
dist=$work/package/dist
mkdir -p "$out/css" "$out/svg" "$out/fonts"
cp "$work/package/LICENSE" "$out/LICENSE"
cp "$dist/css/bootstrap-italia.min.css" "$out/css/"
cp "$dist/svg/sprites.svg" "$out/svg/"
for weight in 300 regular italic 600 700; do
  cp "$dist/fonts/Titillium_Web/titillium-web-v10-latin-ext_latin-$weight.woff2" "$out/fonts/"
done
cp "$dist/fonts/Titillium_Web/OFL.txt" "$out/fonts/OFL-Titillium_Web.txt"
for weight in regular 700; do
  cp "$dist/fonts/Roboto_Mono/roboto-mono-v13-latin-ext_latin-$weight.woff2" "$out/fonts/"
  cp "$dist/fonts/Lora/lora-v20-latin-ext_latin-$weight.woff2" "$out/fonts/"
done
cp "$dist/fonts/Roboto_Mono/LICENSE.txt" "$out/fonts/LICENSE-Roboto_Mono.txt"
cp "$dist/fonts/Lora/OFL.txt" "$out/fonts/OFL-Lora.txt"
echo "bootstrap-italia $version copied to $out; set VERSION in web/src/templates/vendor.rs"
