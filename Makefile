# panora-webhook -- a verified Panora connection.created receiver in C/WebAssembly.
#
# `make help` lists the targets (each has a ## note below); the main ones are
# all, run, test, bench and clean.
#
# Configuration (make VAR=value):
#   BODY_MAX        largest accepted body in bytes (default 1 MiB)
#   WASI_SDK_PATH   use a real wasi-sdk instead of Debian's clang + wasi-libc
#   WASM_CC WASM_TARGET WASM_SYSROOT   the wasm32 toolchain, individually
#   BEARSSL_SRC     an unpacked BearSSL 0.6 tree (default: fetched from Debian)
#   CC              native compiler for tests (default clang)

BUILD     := build
comma     := ,
BODY_MAX  ?= 1048576
NODE      ?= node
NODE_RUN  := $(NODE) --disable-warning=ExperimentalWarning
# Every test has a deadline: a hung test fails instead of stalling the run.
TEST_TIMEOUT_MS ?= 120000
NODE_TEST := $(NODE_RUN) --test --test-reporter=spec --test-timeout=$(TEST_TIMEOUT_MS)

# ------------------------------------------------------------ dependencies
BEARSSL_PKG     := 0.6+dfsg.1-3
BEARSSL_ORIG    := bearssl_0.6+dfsg.1.orig.tar.xz
BEARSSL_SHA256  := 102a625bd8f6155260867a50c508df8d8c3f796985dd744df1a68e5cd1a79004
BEARSSL_SRC     ?= $(BUILD)/deps/bearssl-0.6
# Only what HMAC-SHA256 needs.
BEARSSL_FILES   := src/mac/hmac.c src/hash/sha2small.c \
                   src/codec/dec32be.c src/codec/enc32be.c
JSMN_H          ?= /usr/include/jsmn.h

# ------------------------------------------------------------ toolchains
ifdef WASI_SDK_PATH
WASM_CC      ?= $(WASI_SDK_PATH)/bin/clang
WASM_SYSROOT ?= $(WASI_SDK_PATH)/share/wasi-sysroot
WASM_TARGET  ?= wasm32-wasip1
else
WASM_CC      ?= clang
WASM_SYSROOT ?= /usr
WASM_TARGET  ?= wasm32-wasi
endif
WASM_OPT     ?= wasm-opt

ifeq ($(origin CC),default)
CC := clang
endif

WARN     := -Wall -Wextra -pedantic -Werror -Wmissing-prototypes \
            -Wstrict-prototypes -Wshadow
DEFS     := -DPW_BODY_MAX=$(BODY_MAX)
INC      := -Ilib -isystem $(BUILD)/include -isystem $(BEARSSL_SRC)/inc
BR_INC   := -I$(BEARSSL_SRC)/inc -I$(BEARSSL_SRC)/src

WASM_OPT_LEVEL ?= -Os
WASM_FLAGS := --target=$(WASM_TARGET) --sysroot=$(WASM_SYSROOT) -std=c11 $(WASM_OPT_LEVEL) \
              -ffunction-sections -fdata-sections
SAN        := -fsanitize=address,undefined -fno-sanitize-recover=all \
              -fno-omit-frame-pointer
NATIVE_FLAGS := -std=c11 -O1 -g $(SAN)

LIB_SRC  := $(wildcard lib/*.c)
LIB_HDR  := $(wildcard lib/*.h)
BR_SRC   := $(addprefix $(BEARSSL_SRC)/,$(BEARSSL_FILES))

WASM_MODULE := $(BUILD)/panora-webhook.wasm
COMPONENT   := $(BUILD)/panora-webhook.component.wasm
HTTP_COMPONENT := $(BUILD)/panora-webhook-http.wasm
SPIN_COMPONENT := $(BUILD)/panora-webhook-spin.wasm
CATCHUP_COMPONENT := $(BUILD)/panora-webhook-catchup.wasm
WASM_DEBUG  := $(BUILD)/obj/panora-webhook.debug.wasm
CORE_MODULE := $(BUILD)/obj/pw-core.wasm

UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test_*.c))
VECTORS    := $(BUILD)/vectors/cases.json
VECTORS_H  := $(BUILD)/vectors/cases.h

.PHONY: all deps host run run-wagi bench bench-e2e soak mutate test test-unit test-wasm ct-check fuzz fuzz-smoke fuzz-seeds \
        clean help
.DEFAULT_GOAL := all
.SECONDARY:

all: $(WASM_MODULE) $(COMPONENT) $(HTTP_COMPONENT) $(SPIN_COMPONENT) $(CATCHUP_COMPONENT) ## build the five artifacts

help: ## this list (each target has a note after ##)
	@grep -E '^[a-z][a-z0-9-]*:.*## ' Makefile | sed 's/:.*## /|/' \
		| awk -F'|' '{ printf "  make %-11s %s\n", $$1, $$2 }'
	@echo
	@sed -n '/^# Configuration/,/^$$/p' Makefile | sed 's/^# \{0,1\}//'

# ------------------------------------------------------------ bootstrap
# scripts/deps.sh runs through a stamp: once it has succeeded, a make with
# everything present runs no bootstrap at all (it runs again when the lock
# file or the script change, after `make clean`, or on `make deps`).
DEPS := $(BUILD)/.deps-ok

deps: ## install and fetch the dependencies now (otherwise automatic)
	@rm -f $(DEPS)
	@$(MAKE) --no-print-directory $(DEPS)

$(DEPS): scripts/deps.sh package-lock.json scripts/requirements-wasmtime.txt
	@sh scripts/deps.sh '$(BUILD)' '$(BEARSSL_SRC)' '$(BEARSSL_PKG)' \
		'$(BEARSSL_ORIG)' '$(BEARSSL_SHA256)'
	@mkdir -p $(@D) && touch $@

# Every recipe that compiles needs the dependencies first; the BearSSL
# tree appears when the bootstrap has run.
$(BEARSSL_SRC)/inc/bearssl_hmac.h $(BR_SRC) &: | $(DEPS) ;

$(BUILD)/include/jsmn.h: | $(DEPS)
	@mkdir -p $(@D)
	cp $(JSMN_H) $@

HEADERS := $(LIB_HDR) $(wildcard function/*.h) $(BUILD)/include/jsmn.h \
           $(BEARSSL_SRC)/inc/bearssl_hmac.h

# One rule shape for every object of ours:
#   $(call object_rule,TARGET_PATTERN,SOURCE,COMPILER AND FLAGS)
define object_rule
$(1): $(2) $$(HEADERS) | $$(DEPS)
	@mkdir -p $$(@D)
	$(3) -c $$< -o $$@
endef

WASM_COMPILE   = $(WASM_CC) $(WASM_FLAGS) $(HOT) $(WARN) $(DEFS) $(INC)
OZ_COMPILE     = $(WASM_CC) $(OZ_FLAGS) $(WARN) $(DEFS) $(INC)
NATIVE_COMPILE = $(CC) $(NATIVE_FLAGS) $(WARN) -Wconversion $(DEFS) $(INC)

# ------------------------------------------------------------ wasm32
$(eval $(call object_rule,$(BUILD)/wasm/%.o,lib/%.c,$$(WASM_COMPILE)))
$(eval $(call object_rule,$(BUILD)/wasm/fn_%.o,function/%.c,$$(WASM_COMPILE)))
$(eval $(call object_rule,$(BUILD)/wasm/h_%.o,tests/harness/%.c,$$(WASM_COMPILE)))

# Hot code for speed, cold code for size: the JSON scanning and decoding
# (with simd128 where the target has it) and BearSSL's HMAC and SHA-256 are
# built -O2 for the WAGI module and the handler component, whose time is
# spent there; everything else -Os. The wasi:http components (-Oz, below)
# spend theirs on host I/O. `make WASM_SIMD=` builds without simd128 for a
# host that lacks it (every host named in the README has it).
WASM_SIMD ?= -msimd128
$(BUILD)/wasm/pw_json.o: HOT := -O2 $(WASM_SIMD)
$(BUILD)/wasm/pw_handle.o $(BUILD)/wasm/br_hmac.o $(BUILD)/wasm/br_sha2small.o: HOT := -O2

# BearSSL: third-party code, built with its own include paths and no -Werror.
define bearssl_rules
$(BUILD)/wasm/br_$(notdir $(1:.c=.o)): $(BEARSSL_SRC)/$(1) | $$(DEPS)
	@mkdir -p $$(@D)
	$$(WASM_CC) $$(WASM_FLAGS) $$(HOT) $$(BR_INC) -c $$< -o $$@
$(BUILD)/wasm-oz/br_$(notdir $(1:.c=.o)): $(BEARSSL_SRC)/$(1) | $$(DEPS)
	@mkdir -p $$(@D)
	$$(WASM_CC) $$(OZ_FLAGS) $$(BR_INC) -c $$< -o $$@
$(BUILD)/native/br_$(notdir $(1:.c=.o)): $(BEARSSL_SRC)/$(1) | $$(DEPS)
	@mkdir -p $$(@D)
	$$(CC) $$(NATIVE_FLAGS) $$(BR_INC) -c $$< -o $$@
endef
$(foreach f,$(BEARSSL_FILES),$(eval $(call bearssl_rules,$(f))))

WASM_LIB := $(patsubst lib/%.c,$(BUILD)/wasm/%.o,$(LIB_SRC)) \
            $(patsubst %.c,$(BUILD)/wasm/br_%.o,$(notdir $(BEARSSL_FILES)))

# The link trace (wasm-ld -y) shows whether an allocator was pulled in.
TRACE_SYMS := malloc free calloc realloc sbrk getenv __wasilibc_initialize_environ

$(WASM_DEBUG): $(WASM_LIB) $(BUILD)/wasm/fn_wagi.o
	@mkdir -p $(@D)
	$(WASM_CC) $(WASM_FLAGS) -Wl,--gc-sections $(addprefix -Wl$(comma)-y$(comma),$(TRACE_SYMS)) \
		$^ -o $@ > $(BUILD)/obj/panora-webhook.link.txt

# The core with plain exports and no imports, for differential tests and bench.
$(CORE_MODULE): $(WASM_LIB) $(BUILD)/wasm/h_core_exports.o
	@mkdir -p $(@D)
	$(WASM_CC) $(WASM_FLAGS) -nostartfiles -Wl,--no-entry -Wl,--gc-sections $^ -o $@

$(WASM_MODULE): $(WASM_DEBUG)
	$(WASM_OPT) $(WASM_OPT_LEVEL) --strip-debug --strip-producers $< -o $@
	@echo "$@: $$(wc -c < $@) bytes"

# ------------------------------------------------------------ component
# The panora:webhook/handler export (wit/catcher.wit): a core module that
# imports nothing, given its WIT by `jco embed` and wrapped by `jco new`.
JCO       := $(NODE) node_modules/@bytecodealliance/jco/dist/jco.js
JCO_EMBED := $(NODE) --import ./scripts/jco-preopens.mjs \
             node_modules/@bytecodealliance/jco/dist/jco.js

$(BUILD)/obj/catcher.core.wasm: $(WASM_LIB) $(BUILD)/wasm/fn_component.o
	@mkdir -p $(@D)
	$(WASM_CC) $(WASM_FLAGS) -nostartfiles -Wl,--no-entry -Wl,--gc-sections $^ -o $@.tmp
	$(WASM_OPT) $(WASM_OPT_LEVEL) --strip-debug --strip-producers $@.tmp -o $@
	@rm -f $@.tmp

$(COMPONENT): $(BUILD)/obj/catcher.core.wasm $(wildcard wit/*.wit) | $(DEPS)
	$(JCO_EMBED) embed --wit wit --world-name catcher $< -o $(BUILD)/obj/catcher.embedded.wasm
	$(JCO) new $(BUILD)/obj/catcher.embedded.wasm -o $@
	@echo "$@: $$(wc -c < $@) bytes"

# The wasi:http components: one source, two worlds (wit/http/*.wit). The WASI
# WIT they are embedded with is derived at build time from jco's package.
# Built for size (-Oz, their own objects): their time goes to host I/O, and
# the wasi:http types alone add about 10 KB to each component.
OZ_FLAGS := $(subst $(WASM_OPT_LEVEL),-Oz,$(WASM_FLAGS))
WASM_LIB_OZ := $(patsubst $(BUILD)/wasm/%,$(BUILD)/wasm-oz/%,$(WASM_LIB))

$(eval $(call object_rule,$(BUILD)/wasm-oz/%.o,lib/%.c,$$(OZ_COMPILE)))


$(eval $(call object_rule,$(BUILD)/wasm-oz/fn_%.o,function/%.c,$$(OZ_COMPILE)))

# What each flavour links besides the core: its glue and its sinks.
HTTP_FN := $(addprefix $(BUILD)/wasm-oz/fn_,http.o http_env.o forward.o streams.o)
SPIN_FN := $(addprefix $(BUILD)/wasm-oz/fn_,http.o http_spin.o forward.o store.o streams.o)
CATCHUP_FN := $(addprefix $(BUILD)/wasm-oz/fn_,catchup.o forward.o streams.o)

$(BUILD)/obj/http.core.wasm: $(WASM_LIB_OZ) $(HTTP_FN)
$(BUILD)/obj/http_spin.core.wasm: $(WASM_LIB_OZ) $(SPIN_FN)
$(BUILD)/obj/catchup.core.wasm: $(WASM_LIB_OZ) $(CATCHUP_FN)
$(BUILD)/obj/http.core.wasm $(BUILD)/obj/http_spin.core.wasm $(BUILD)/obj/catchup.core.wasm:
	@mkdir -p $(@D)
	$(WASM_CC) $(OZ_FLAGS) -nostartfiles -Wl,--no-entry -Wl,--gc-sections $^ -o $@.tmp
	$(WASM_OPT) -Oz --strip-debug --strip-producers $@.tmp -o $@
	@rm -f $@.tmp

$(BUILD)/wit/%/.done: wit/http/%.wit $(wildcard wit/http/deps-own/*.wit) scripts/wit-deps.sh | $(DEPS)
	sh scripts/wit-deps.sh $(@D) $<
	@touch $@

$(HTTP_COMPONENT): $(BUILD)/obj/http.core.wasm $(BUILD)/wit/proxy/.done
	$(JCO_EMBED) embed --wit $(BUILD)/wit/proxy $< -o $(BUILD)/obj/http.embedded.wasm
	$(JCO) new $(BUILD)/obj/http.embedded.wasm -o $@
	@echo "$@: $$(wc -c < $@) bytes"

$(SPIN_COMPONENT): $(BUILD)/obj/http_spin.core.wasm $(BUILD)/wit/spin/.done
	$(JCO_EMBED) embed --wit $(BUILD)/wit/spin $< -o $(BUILD)/obj/http_spin.embedded.wasm
	$(JCO) new $(BUILD)/obj/http_spin.embedded.wasm -o $@
	@echo "$@: $$(wc -c < $@) bytes"

# The catch-up command (wit/http/catchup.wit): exports wasi:cli/run, for
# `wasmtime run -S http` from cron.
$(CATCHUP_COMPONENT): $(BUILD)/obj/catchup.core.wasm $(BUILD)/wit/catchup/.done
	$(JCO_EMBED) embed --wit $(BUILD)/wit/catchup $< -o $(BUILD)/obj/catchup.embedded.wasm
	$(JCO) new $(BUILD)/obj/catchup.embedded.wasm -o $@
	@echo "$@: $$(wc -c < $@) bytes"

# The reference host loads the component as JavaScript + core wasm.
HOST_JS := $(BUILD)/host/catcher.js

$(HOST_JS): $(COMPONENT) | $(DEPS)
	$(JCO) transpile $< -o $(@D) --name catcher --instantiation async --no-typescript --quiet

host: $(HOST_JS) ## transpile the handler component for the reference host

# ------------------------------------------------------------ native (tests)
$(eval $(call object_rule,$(BUILD)/native/%.o,lib/%.c,$$(NATIVE_COMPILE)))

NATIVE_LIB := $(patsubst lib/%.c,$(BUILD)/native/%.o,$(LIB_SRC)) \
              $(patsubst %.c,$(BUILD)/native/br_%.o,$(notdir $(BEARSSL_FILES)))

$(VECTORS) $(VECTORS_H) &: tests/vectors/gen.mjs | $(DEPS)
	@mkdir -p $(@D)
	$(NODE) tests/vectors/gen.mjs $(BUILD)/vectors

$(BUILD)/tests/%: tests/unit/%.c tests/unit/strbuf.h $(NATIVE_LIB) $(VECTORS_H) $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(NATIVE_FLAGS) $(WARN) -Wno-overlength-strings $(DEFS) $(INC) -Ifunction -I$(BUILD)/vectors \
		$< $(NATIVE_LIB) -lcmocka -o $@

# ------------------------------------------------------------ constant time
# Optimised like a release build, no sanitizers: memcheck watches the code as
# it ships. The early-exit build is the check's own test.
CT_BUILD := $(CC) -std=c11 -O2 -gdwarf-4 $(WARN) $(DEFS) -DPW_CT_VALIDATION \
            $(INC) -I$(BEARSSL_SRC)/src

$(BUILD)/ct/ct_check: tests/ct/ct_check.c $(LIB_SRC) $(BR_SRC) $(HEADERS)
	@mkdir -p $(@D)
	$(CT_BUILD) $(filter %.c,$^) -o $@

$(BUILD)/ct/ct_check_early_exit: tests/ct/ct_check.c $(LIB_SRC) $(BR_SRC) $(HEADERS)
	@mkdir -p $(@D)
	$(CT_BUILD) -DPW_CT_SELFTEST_EARLY_EXIT $(filter %.c,$^) -o $@

ct-check: $(BUILD)/ct/ct_check $(BUILD)/ct/ct_check_early_exit ## memcheck: no branch on secrets; the planted early exit is caught
	valgrind -q --error-exitcode=99 $(BUILD)/ct/ct_check
	@valgrind -q --error-exitcode=99 $(BUILD)/ct/ct_check_early_exit \
		> $(BUILD)/ct/early_exit.log 2>&1; rc=$$?; \
	if [ $$rc -eq 99 ] && grep -q 'depends on uninitialised' $(BUILD)/ct/early_exit.log; then \
		echo "ct-check: the early-exit comparison is caught, as it must be"; \
	else \
		echo "ct-check: the early-exit comparison went unnoticed (exit $$rc)"; exit 1; \
	fi

# ------------------------------------------------------------ fuzzing
# libFuzzer + ASan + UBSan. `make fuzz` explores for FUZZ_SECONDS per target,
# keeping new inputs in build/fuzz/corpus; `make test` runs a fixed number of
# inputs from the committed seeds (tests/fuzz/corpus, from `make fuzz-seeds`).
FUZZ_TARGETS := request record unescape hex catchup
FUZZ_SECONDS ?= 60
FUZZ_RUNS    ?= 20000
FUZZ_BINS    := $(addprefix $(BUILD)/fuzz/fuzz_,$(FUZZ_TARGETS))
FUZZ_BUILD   := clang -std=c11 -O1 -g -fsanitize=fuzzer,address,undefined \
                -fno-sanitize-recover=all $(WARN) $(DEFS) $(INC) -I$(BEARSSL_SRC)/src
FUZZ_ARGS    := -dict=tests/fuzz/json.dict -seed=1 -print_final_stats=1 \
                -artifact_prefix=$(BUILD)/fuzz/

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(LIB_SRC) $(BR_SRC) $(HEADERS)
	@mkdir -p $(@D)
	$(FUZZ_BUILD) $< $(LIB_SRC) $(BR_SRC) -o $@

fuzz: $(FUZZ_BINS) ## each libFuzzer target for FUZZ_SECONDS (default 60)
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p $(BUILD)/fuzz/corpus/$$t; \
		echo "== fuzz_$$t for $(FUZZ_SECONDS) s"; \
		$(BUILD)/fuzz/fuzz_$$t $(FUZZ_ARGS) -max_total_time=$(FUZZ_SECONDS) \
			$(BUILD)/fuzz/corpus/$$t tests/fuzz/corpus/$$t > $(BUILD)/fuzz/$$t.log 2>&1; \
		rc=$$?; grep -E '^(stat::|Done)|ERROR|SUMMARY' $(BUILD)/fuzz/$$t.log; \
		[ $$rc -eq 0 ] || { echo "fuzz_$$t: finding, see $(BUILD)/fuzz/$$t.log"; exit 1; }; \
	done

fuzz-smoke: $(FUZZ_BINS) ## FUZZ_RUNS inputs per target from the committed seeds
	@for t in $(FUZZ_TARGETS); do \
		rm -rf $(BUILD)/fuzz/smoke/$$t; mkdir -p $(BUILD)/fuzz/smoke/$$t; \
		$(BUILD)/fuzz/fuzz_$$t $(FUZZ_ARGS) -runs=$(FUZZ_RUNS) \
			$(BUILD)/fuzz/smoke/$$t tests/fuzz/corpus/$$t \
			> $(BUILD)/fuzz/smoke/$$t.log 2>&1 \
			|| { tail -40 $(BUILD)/fuzz/smoke/$$t.log; exit 1; }; \
		echo "fuzz_$$t: $(FUZZ_RUNS) inputs, no finding"; \
	done

fuzz-seeds: $(VECTORS) ## rewrite tests/fuzz/corpus from the end-to-end cases
	$(NODE) tests/fuzz/seed.mjs $(VECTORS) tests/fuzz/corpus

# ------------------------------------------------------------ benchmark
# The core as it would ship natively (-O2, no sanitizers), and the empty WASI
# command that measures the host's own per-request floor.
$(BUILD)/bench/bench_%: tests/bench/bench_%.c $(LIB_SRC) $(BR_SRC) $(HEADERS)
	@mkdir -p $(@D)
	$(CC) -std=c11 -O2 $(WARN) $(DEFS) $(INC) -I$(BEARSSL_SRC)/src $(filter %.c,$^) -o $@

$(BUILD)/bench/%.wasm: tests/bench/%.c | $(DEPS)
	@mkdir -p $(@D)
	$(WASM_CC) $(WASM_FLAGS) $< -o $@.tmp
	$(WASM_OPT) $(WASM_OPT_LEVEL) --strip-debug --strip-producers $@.tmp -o $@
	@rm -f $@.tmp

BENCH_NEEDS := all $(HOST_JS) $(CORE_MODULE) $(BUILD)/bench/bench_native $(BUILD)/bench/bench_catchup \
               $(BUILD)/bench/empty.wasm $(BUILD)/bench/cgi_floor.wasm

bench: $(BENCH_NEEDS) $(BENCH_DEPS) ## speed and size beside a Node receiver, then end to end; writes build/bench.json
	$(NODE_RUN) tests/bench/bench.mjs
	$(E2E_ENV) $(NODE_RUN) tests/bench/e2e.mjs

# End to end: whole servers on loopback under wrk, side by side
# (tests/bench/e2e.mjs). A short run: make bench-e2e E2E_ROUNDS=1 E2E_SECONDS=1
WASMTIME        ?= $(BUILD)/bin/wasmtime
E2E_ROUNDS      ?= 5
E2E_SECONDS     ?= 5
E2E_CONNECTIONS ?= 1 32
E2E_ENV    := WASMTIME='$(WASMTIME)' E2E_ROUNDS='$(E2E_ROUNDS)' E2E_SECONDS='$(E2E_SECONDS)' \
              E2E_CONNECTIONS='$(E2E_CONNECTIONS)'
BENCH_DEPS := $(BUILD)/bench/.deps-ok

# wrk, Express and Flask/gunicorn: for the bench only, never for make test.
$(BENCH_DEPS): scripts/bench-deps.sh tests/bench/peers/package-lock.json tests/bench/peers/requirements.txt | $(DEPS)
	@sh scripts/bench-deps.sh '$(BUILD)'
	@mkdir -p $(@D) && touch $@

bench-e2e: $(HTTP_COMPONENT) $(HOST_JS) $(BENCH_DEPS) ## only the end-to-end half of bench; adds to build/bench.json
	$(E2E_ENV) $(NODE_RUN) tests/bench/e2e.mjs

# ------------------------------------------------------------ soak
# The reference host under SOAK_CLIENTS for SOAK_SECONDS, SIGKILL and restart
# half-way; fails if an acknowledged record is missing. `make test` runs an
# 8-second version (tests/host/soak.test.mjs).
SOAK_CLIENTS ?= 50
SOAK_SECONDS ?= 60

soak: $(HOST_JS) ## the reference host under load, SIGKILL half-way, loss check
	$(NODE_RUN) tests/soak/soak.mjs --clients $(SOAK_CLIENTS) --seconds $(SOAK_SECONDS)

# ------------------------------------------------------------ mutation
# Each mutant of tests/mutate/mutants.mjs applied alone to a scratch copy;
# every one must be killed by the suites it names. Not part of `make test`.
mutate: all $(WASM_DEBUG) $(CORE_MODULE) $(HOST_JS) $(VECTORS) $(UNIT_TESTS) ## every mutant of tests/mutate must be killed
	$(NODE_RUN) tests/mutate/run.mjs

# ------------------------------------------------------------ run and test
run: $(WASM_MODULE) $(HOST_JS) ## start the reference host with a demo secret; print a signed curl
	@$(NODE_RUN) deploy/host/server.mjs --demo

run-wagi: $(WASM_MODULE) ## sign a sample delivery, run the WAGI module as a command
	@$(NODE_RUN) scripts/run.mjs $(WASM_MODULE)

test: test-unit test-wasm test-wasmtime ct-check fuzz-smoke ## every suite: unit, WebAssembly, host, http, wasmtime, ct-check, fuzz smoke

test-unit: $(UNIT_TESTS) ## the cmocka suites under ASan and UBSan
	@for t in $(UNIT_TESTS); do echo "== $$t"; $$t || exit 1; done

test-wasm: all $(WASM_DEBUG) $(CORE_MODULE) $(HOST_JS) $(VECTORS) ## the Node suites: WAGI, component, host, catch-up command, wasi:http
	$(NODE_TEST) tests/wasm/ tests/host/ tests/catchup/
	$(NODE_TEST) --test-concurrency=1 tests/http/

.PHONY: test-wasmtime run-wasmtime
test-wasmtime: all $(HOST_JS) $(VECTORS) ## the artifacts under the real wasmtime CLI: run, serve, run --invoke
	$(NODE_TEST) --test-concurrency=1 tests/wasmtime/

run-wasmtime: $(HTTP_COMPONENT) | $(DEPS) ## wasmtime serve on the wasi:http component, a local forward backend; print a signed curl
	@$(NODE_RUN) scripts/run-wasmtime.mjs $(HTTP_COMPONENT)

clean: ## remove build/
	rm -rf $(BUILD)
