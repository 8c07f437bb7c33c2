# stress.mk - thread stress under ThreadSanitizer, the long soak, and the
# packages of the static analysis (tests/analysis/static.sh).
#   make stress   build the TSan library and stress program, run
#                 tests/analysis/stress.sh (also run by `make check`)
#   make soak     10 minutes (SOAK_SECONDS) of mixed traffic and injected
#                 faults under the normal library (tests/stress/soak.sh);
#                 not part of `make check`
# $(BUILD)/tsan holds the library built with -fsanitize=thread by the
# ordinary rules (a recursive make) and tests/stress/stress.c built with the
# client library and -fsanitize=thread.
TSAN_BUILD  = $(BUILD)/tsan
TSAN_CFLAGS = -O1 -g -fsanitize=thread
SOAK_SECONDS ?= 600

.PHONY: tsan-lib stress soak
# Not part of a plain `make`: tests/analysis/stress.sh builds them.
tsan-lib:
	@$(MAKE) --no-print-directory lib BUILD=$(TSAN_BUILD) CFLAGS="$(TSAN_CFLAGS)" LDFLAGS="$(LDFLAGS)"

$(TSAN_BUILD)/stress: tests/stress/stress.c $(CLIENT_LIB) tests/clients/client_common.h tests/common/pattern.h
	@mkdir -p $(dir $@)
	$(CC) $(CLIENT_CFLAGS) $(TSAN_CFLAGS) -Itests/clients $(LDFLAGS) -o $@ $< $(CLIENT_LIB)

stress: tsan-lib $(TSAN_BUILD)/stress $(BUILD)/kwtestd
	@tests/analysis/stress.sh $(BUILD)

soak: lib $(BUILD)/kwtestd $(CLIENTS)
	@SOAK_SECONDS=$(SOAK_SECONDS) tests/stress/soak.sh $(BUILD)

# tests/analysis/static.sh (run by `make check`) needs cppcheck and
# clang-tidy; installed like tools/install-deps.sh does, only when missing.
STATIC_PKGS = cppcheck clang-tidy
.PHONY: deps-static
deps-check: deps-static
deps-static:
	@missing=; for p in $(STATIC_PKGS); do \
		dpkg -s $$p 2>/dev/null | grep -qx 'Status: install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		sudo=; [ "$$(id -u)" -eq 0 ] || sudo=sudo; \
		echo "deps-static: installing$$missing"; \
		$$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
		$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	fi
