# keepwarm: build the preload library, its tests and tools.
#   make          build build/libkeepwarm.so and the test programs
#   make check    install test dependencies (Debian), run unit + integration tests
#   make demo     install demo dependencies, run a legacy client without and with the shim
CC      ?= cc
BUILD   ?= build
WARN     = -Wall -Wextra -Werror
# CFLAGS/LDFLAGS are the user's (optimisation, sanitizers); the rest is required.
CFLAGS  ?= -O2 -g
BASE_CFLAGS  = $(CFLAGS) $(WARN) -std=gnu11 -D_GNU_SOURCE -MMD -MP
SHIM_CFLAGS  = $(BASE_CFLAGS) -fPIC -fvisibility=hidden
SHIM_LDLIBS  = -lhttp_parser -ldl -lpthread

# Pure logic: unit-testable, no interposition.
SHIM_CORE = config http_track idle_table trace dest conn stats upgrade
# Interposition: real-function table, fd table, connection logic, thin wrappers.
SHIM_WRAP = real fdtable pool_local core reuse closestyle report sock_connect io_wrappers fd_lifecycle epoll_wrap
SHIM_OBJS = $(addprefix $(BUILD)/shim/,$(addsuffix .o,$(SHIM_CORE) $(SHIM_WRAP)))
CORE_OBJS = $(addprefix $(BUILD)/shim/,$(addsuffix .o,$(SHIM_CORE)))

UNIT_TESTS   = $(patsubst tests/unit/%.c,$(BUILD)/unit/%,$(wildcard tests/unit/test_*.c))
# The client library is linked into every client; each other tests/clients/*.c is a client.
CLIENT_LIB   = tests/clients/client_common.c tests/clients/client_resp.c tests/clients/client_nonblock.c
CLIENTS      = $(patsubst tests/clients/%.c,$(BUILD)/clients/%,$(filter-out $(CLIENT_LIB),$(wildcard tests/clients/*.c)))
KWTESTD_SRCS = tests/server/kwtestd.c tests/server/kwtestd_request.c tests/server/kwtestd_response.c
# Test clients are built the way Debian builds packages, so the _chk reads are exercised.
CLIENT_CFLAGS = -O2 -g -D_FORTIFY_SOURCE=2 $(WARN) -std=gnu11 -D_GNU_SOURCE -Itests/common -pthread

.PHONY: all lib tests check unit integration demo clean deps-check deps-demo
all: lib tests
lib: $(BUILD)/libkeepwarm.so
PRELOADS     = $(patsubst tests/preload/%.c,$(BUILD)/preload/%.so,$(wildcard tests/preload/*.c))
tests: $(UNIT_TESTS) $(BUILD)/kwtestd $(CLIENTS) $(PRELOADS)

$(BUILD)/shim/%.o: shim/%.c
	@mkdir -p $(dir $@)
	$(CC) $(SHIM_CFLAGS) -c $< -o $@

$(BUILD)/libkeepwarm.so: $(SHIM_OBJS) shim/exports.map
	$(CC) $(CFLAGS) $(LDFLAGS) -shared -Wl,--version-script=shim/exports.map -Wl,-z,defs -o $@ $(SHIM_OBJS) $(SHIM_LDLIBS)

$(BUILD)/unit/%: tests/unit/%.c $(CORE_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(LDFLAGS) -Ishim -o $@ $< $(CORE_OBJS) $$(pkg-config --cflags --libs check) -lhttp_parser

$(BUILD)/kwtestd: $(KWTESTD_SRCS) tests/server/kwtestd.h tests/common/pattern.h
	@mkdir -p $(dir $@)
	$(CC) $(CLIENT_CFLAGS) -o $@ $(KWTESTD_SRCS) -pthread

$(BUILD)/clients/%: tests/clients/%.c $(CLIENT_LIB) tests/clients/client_common.h tests/common/pattern.h
	@mkdir -p $(dir $@)
	$(CC) $(CLIENT_CFLAGS) -o $@ $< $(CLIENT_LIB)

# Other preload libraries, to test stacking and use before our constructor.
$(BUILD)/preload/%.so: tests/preload/%.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -g $(WARN) -std=gnu11 -D_GNU_SOURCE -fPIC -shared -o $@ $< -ldl

deps-check:
	@tools/install-deps.sh check
deps-demo:
	@tools/install-deps.sh demo

unit: $(UNIT_TESTS)
	@set -e; for t in $(UNIT_TESTS); do echo "== $$t"; $$t; done

integration: all
	@tests/integration/run-all.sh $(BUILD)

check: deps-check
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory integration

demo: deps-demo
	@$(MAKE) --no-print-directory lib $(BUILD)/kwtestd
	@tools/demo.sh $(BUILD)

clean:
	rm -rf $(BUILD)

# Feature areas add their own targets in mk/*.mk (benchmarks, tools, suites).
-include $(wildcard mk/*.mk)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
