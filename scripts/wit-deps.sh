#!/bin/sh
# wit-deps.sh -- assemble the WIT tree for the wasi:http components.
#
#   scripts/wit-deps.sh OUT_DIR WORLD_FILE
#
# OUT_DIR gets WORLD_FILE (one world: jco 1.35.0's embed cannot be told
# which world to use) and deps/: the WASI packages from jco's
# bundled WIT (installed by npm ci), renamed from @0.2.12 to @0.2.0 -- 0.2.x
# releases only add functions, and the components import only functions
# that 0.2.0 has -- plus our own declarations of the wasi:config and
# wasi:keyvalue items the Spin flavour uses. Nothing third-party is kept in
# the repository.
set -eu
out=$1 world=$2
src=node_modules/@bytecodealliance/jco/lib/wit/builtin/0.2.12
[ -d "$src" ] || { echo "wit-deps: $src missing (npm ci)" >&2; exit 1; }
rm -rf "$out"
mkdir -p "$out/deps"
cp "$world" "$out/"
for d in "$src"/wasi-*; do
	name=${d##*/wasi-}
	mkdir -p "$out/deps/$name"
	sed 's/@0\.2\.12/@0.2.0/g' "$d/package.wit" > "$out/deps/$name/package.wit"
done
for f in wit/http/deps-own/*.wit; do
	name=$(basename "$f" .wit)
	mkdir -p "$out/deps/$name"
	cp "$f" "$out/deps/$name/package.wit"
done
