# keepwarm: build the preload library, its tests and tools.
#   make          build build/libkeepwarm.so, the tools and the test programs
#                 (not the sanitizer and ThreadSanitizer builds, not the
#                 benchmarks: the tests that need them build them)
#   make check    install test dependencies (Debian), run the unit tests, the
#                 behaviour tests and the analysis (tests/run-all.sh)
#   make demo     install demo dependencies, run a legacy client without and with the shim
CC      ?= cc
BUILD   ?= build
WARN     = -Wall -Wextra -Werror
# CFLAGS/LDFLAGS are the user's (optimisation, sanitizers); the rest is required.
CFLAGS  ?= -O2 -g
# The version's one home is debian/changelog's first line (shim/logic/version.h
# says how; the Debian package takes it from there too).
VERSION_FILE = debian/changelog
KW_VERSION  := $(shell sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' $(VERSION_FILE))
# Each dependency file names its target both ways make may be told it
# (BUILD=build or BUILD=/abs/path/build, as the tests do): either way a
# changed header rebuilds what includes it.
DEP_TARGETS  = -MT '$(abspath $@)' -MT '$(patsubst $(CURDIR)/%,%,$(abspath $@))'
BASE_CFLAGS  = $(CFLAGS) $(WARN) -std=gnu11 -D_GNU_SOURCE -MMD -MP $(DEP_TARGETS) \
               -DKW_VERSION='"$(KW_VERSION)"'
# Where the system's TLS libraries live (service/tls_real.c knows them by
# file identity); the GnuTLS and OpenSSL headers give types only, neither
# library is linked.
MULTIARCH     := $(shell $(CC) -print-multiarch)
SYSTEM_LIBDIR := /usr/lib/$(MULTIARCH)
SHIM_CFLAGS  = $(BASE_CFLAGS) -fPIC -fvisibility=hidden -Ishim -DKW_SYSTEM_LIBDIR='"$(SYSTEM_LIBDIR)"'
# libhttp-parser from Debian's static archive (built PIC), its symbols local
# by the version script: a program's own copy of http_parser_* (another
# version, another ABI) can never answer keepwarm's calls, and no program
# loads one more object (ld.so's open and maps, one more hash table passed
# by each of its symbol lookups) for keepwarm.
SHIM_LDLIBS  = -l:libhttp_parser.a -ldl -lpthread

# The library's levels, lowest first; shim/<level>/ holds each one's files
# and shim/README.md describes them. A file calls only files of its own level
# (without circles) or of the levels before it: `make layers` checks it.
SHIM_LEVELS = logic service sink primitive feature entry wrap
level_objs  = $(patsubst shim/%.c,$(BUILD)/shim/%.o,$(sort $(wildcard shim/$(1)/*.c)))
SHIM_OBJS   = $(foreach l,$(SHIM_LEVELS),$(call level_objs,$(l)))
# Pure logic, linked alone into the unit tests and fuzz harnesses.
CORE_OBJS   = $(call level_objs,logic)
# Everything but the wrappers: the whole shim without interposition.
NOWRAP_OBJS = $(filter-out $(call level_objs,wrap),$(SHIM_OBJS))

UNIT_TESTS   = $(patsubst tests/unit/%.c,$(BUILD)/unit/%,$(wildcard tests/unit/test_*.c))
# The client library is linked into every client; each other tests/clients/*.c is a client.
CLIENT_LIB   = tests/clients/client_common.c tests/clients/client_resp.c tests/clients/client_nonblock.c \
               tests/clients/client_script.c
CLIENTS      = $(patsubst tests/clients/%.c,$(BUILD)/clients/%,$(filter-out $(CLIENT_LIB),$(wildcard tests/clients/*.c)))
KWTESTD_SRCS = tests/server/kwtestd.c tests/server/kwtestd_request.c tests/server/kwtestd_response.c
# Test clients are built the way Debian builds packages, so the _chk reads are exercised.
CLIENT_CFLAGS = -O2 -g -D_FORTIFY_SOURCE=2 $(WARN) -std=gnu11 -D_GNU_SOURCE -Itests/common -pthread

.PHONY: all lib tests check unit behaviour analysis demo clean deps-check deps-demo
all: lib tests
lib: $(BUILD)/libkeepwarm.so
PRELOADS     = $(patsubst tests/preload/%.c,$(BUILD)/preload/%.so,$(wildcard tests/preload/*.c))
# Libraries loaded with RTLD_DEEPBIND and their driver (tests/behaviour/redirect.sh).
REDIRECT_TESTS = $(addprefix $(BUILD)/redirect/,libkwdeepdep.so libkwdeep.so libkwfakesock.so \
                 libkwdeepfake.so deepbind_client)
tests: $(UNIT_TESTS) $(BUILD)/kwtestd $(CLIENTS) $(PRELOADS) $(REDIRECT_TESTS)

$(BUILD)/shim/%.o: shim/%.c
	@mkdir -p $(dir $@)
	$(CC) $(SHIM_CFLAGS) -c $< -o $@
# Objects that print the version are rebuilt when it changes.
$(BUILD)/shim/sink/report.o: $(VERSION_FILE)

$(BUILD)/libkeepwarm.so: $(SHIM_OBJS) shim/wrap/exports.map
	$(CC) $(CFLAGS) $(LDFLAGS) -shared -Wl,--version-script=shim/wrap/exports.map -Wl,-z,defs -o $@ $(SHIM_OBJS) $(SHIM_LDLIBS)

# Unit tests link the pure logic; test_stream the whole shim but the
# wrappers (it drives the stream over an in-memory transport), test_got
# too (it reads the loaded objects' ELF tables).
UNIT_CFLAGS = $(BASE_CFLAGS) -Ishim -DKW_SOURCE_DIR='"$(CURDIR)"'
$(BUILD)/unit/%: tests/unit/%.c $(CORE_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(UNIT_CFLAGS) $(LDFLAGS) -o $@ $< $(CORE_OBJS) $$(pkg-config --cflags --libs check) -lhttp_parser

$(BUILD)/unit/test_stream: tests/unit/test_stream.c $(NOWRAP_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(UNIT_CFLAGS) $(LDFLAGS) -o $@ $< $(NOWRAP_OBJS) $$(pkg-config --cflags --libs check) $(SHIM_LDLIBS)

$(BUILD)/unit/test_got: tests/unit/test_got.c $(NOWRAP_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(UNIT_CFLAGS) $(LDFLAGS) -o $@ $< $(NOWRAP_OBJS) $$(pkg-config --cflags --libs check) $(SHIM_LDLIBS)

$(BUILD)/kwtestd: $(KWTESTD_SRCS) tests/server/kwtestd.h tests/common/pattern.h
	@mkdir -p $(dir $@)
	$(CC) $(CLIENT_CFLAGS) -o $@ $(KWTESTD_SRCS) -pthread

$(BUILD)/clients/%: tests/clients/%.c $(CLIENT_LIB) tests/clients/client_common.h tests/common/pattern.h
	@mkdir -p $(dir $@)
	$(CC) $(CLIENT_CFLAGS) -o $@ $< $(CLIENT_LIB)

# Other preload libraries, to test stacking and use before our constructor.
RT = $(BUILD)/redirect
$(RT)/libkwdeepdep.so: tests/redirect/kwdeepdep.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) -fPIC -shared -o $@ $<
$(RT)/libkwfakesock.so: tests/redirect/fakesock.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) -fPIC -shared -o $@ $<
$(RT)/libkwdeep.so: tests/redirect/kwdeep.c $(RT)/libkwdeepdep.so
	$(CC) $(BASE_CFLAGS) -fPIC -shared -o $@ $< -L$(RT) -lkwdeepdep -Wl,-rpath,'$$ORIGIN'
$(RT)/libkwdeepfake.so: tests/redirect/kwdeep.c $(RT)/libkwfakesock.so $(RT)/libkwdeepdep.so
	$(CC) $(BASE_CFLAGS) -fPIC -shared -o $@ $< -L$(RT) -lkwfakesock -lkwdeepdep \
		-Wl,-rpath,'$$ORIGIN'
$(RT)/deepbind_client: tests/redirect/deepbind_client.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) -rdynamic -Wl,-rpath,'$$ORIGIN' -o $@ $< -ldl -pthread

$(BUILD)/preload/%.so: tests/preload/%.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -g $(WARN) -std=gnu11 -D_GNU_SOURCE -fPIC -shared -o $@ $< -ldl

deps-check:
	@tools/install-deps.sh check
deps-demo:
	@tools/install-deps.sh demo

# The three sections of `make check`, each also on its own.
unit: $(UNIT_TESTS)
	@tests/run-all.sh $(BUILD) unit

behaviour: all
	@tests/run-all.sh $(BUILD) behaviour

analysis: all
	@tests/run-all.sh $(BUILD) analysis

check: deps-check
	@$(MAKE) --no-print-directory all
	@tests/run-all.sh $(BUILD)

demo: deps-demo
	@$(MAKE) --no-print-directory lib tools $(BUILD)/kwtestd $(BUILD)/bench/delayproxy \
		$(BUILD)/bench/connectdelay.so
	@tools/demo.sh $(BUILD)

clean:
	rm -rf $(BUILD)

# Feature areas add their own targets in mk/*.mk (benchmarks, tools, suites).
-include $(wildcard mk/*.mk)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
