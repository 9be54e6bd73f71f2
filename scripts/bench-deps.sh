#!/bin/sh
# bench-deps.sh -- what the end-to-end bench needs and make test does not;
# quiet when all is there.
#
#   scripts/bench-deps.sh BUILD_DIR
#
# 1. wrk, the load generator (Debian's package; apt-get when root on Debian,
#    otherwise it says what to install and fails).
# 2. Express for the Express peer: npm ci from tests/bench/peers'
#    package-lock.json into BUILD_DIR/bench/node.
# 3. Flask and gunicorn for the Flask peer: a virtual environment at
#    BUILD_DIR/bench/venv, pip install --require-hashes from
#    tests/bench/peers/requirements.txt.
# Each step runs again only when its lock or requirements file changed.
set -eu

build=$1
peers=tests/bench/peers
say() { printf 'bench-deps: %s\n' "$*" >&2; }

# ---------------------------------------------------------------- wrk
if ! command -v wrk >/dev/null 2>&1; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		say "installing wrk"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq >&2
		apt-get install -y -qq --no-install-recommends wrk >&2
	else
		say "wrk is missing: install it (Debian: sudo apt-get install wrk)"
		exit 1
	fi
fi

# ---------------------------------------------------------------- Express
node_dir=$build/bench/node
if ! cmp -s "$peers/package-lock.json" "$node_dir/package-lock.json" 2>/dev/null \
	|| [ ! -f "$node_dir/node_modules/.package-lock.json" ]; then
	say "npm ci (Express, into $node_dir)"
	rm -rf "$node_dir"
	mkdir -p "$node_dir"
	cp "$peers/package.json" "$peers/package-lock.json" "$node_dir/"
	npm ci --prefix "$node_dir" --no-audit --no-fund --loglevel=error >&2
fi

# ---------------------------------------------------------------- Flask
venv=$build/bench/venv
req=$peers/requirements.txt
if ! cmp -s "$req" "$venv/requirements-ok" 2>/dev/null; then
	say "pip install --require-hashes -r $req (into $venv)"
	if ! python3 -c 'import ensurepip' 2>/dev/null; then
		if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
			apt-get install -y -qq --no-install-recommends python3-venv >&2
		else
			say "python3 cannot make a virtual environment: install python3-venv"
			exit 1
		fi
	fi
	rm -rf "$venv"
	python3 -m venv "$venv"
	"$venv/bin/pip" install --quiet --disable-pip-version-check --no-input \
		--require-hashes --no-deps --only-binary=:all: -r "$req" >&2
	cp "$req" "$venv/requirements-ok"
fi
exit 0
