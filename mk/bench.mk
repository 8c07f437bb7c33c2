# mk/bench.mk - `make bench`: the side-by-side benchmark (tools/bench/).
#   make bench        install its Debian packages, build, run (< 10 min on 2 cores)
#   make bench-tools  build only the benchmark programs
BENCH_PROGS = $(addprefix $(BUILD)/bench/,delayproxy reqloop benchserv scale untracked connectdelay.so \
              handoff libs50/prog)
# Not part of a plain `make`: the smoke test (tests/behaviour/bench-smoke.sh)
# builds them; `make check` installs the proxies it needs.
# Scenario 6 (TLS reuse) also runs two programs of mk/tls.mk, which a plain
# `make` builds too: the libcurl3-gnutls client and the GnuTLS HTTPS server.
BENCH_TLS_PROGS = $(addprefix $(BUILD)/tls/,curl_client-gnutls tls_server)
# Scenario 8 (process per request) also runs the per-user broker,
# build/keepwarmd (mk/broker.mk): bench-tools builds it too.
deps-check: deps-bench

.PHONY: bench bench-tools deps-bench
bench-tools: $(BENCH_PROGS) $(BUILD)/keepwarmd

$(BUILD)/bench/%: tools/bench/%.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(LDFLAGS) -o $@ $<

# A program linked against 50 small libraries (-z now, as Debian links):
# what keepwarm's start-up pass over loaded objects costs (scenario 4).
$(BUILD)/bench/libs50/prog:
	@mkdir -p $(dir $@)
	@for i in $$(seq 1 50); do \
		echo "int kw_f$$i(int x) { return x + $$i; }" >$(dir $@)l$$i.c; \
		$(CC) $(BASE_CFLAGS) -fPIC -shared -Wl,-z,now -o $(dir $@)libl$$i.so $(dir $@)l$$i.c || exit 1; \
	done
	@{ for i in $$(seq 1 50); do echo "int kw_f$$i(int);"; done; \
	   echo "int main(void) { int s = 0;"; \
	   for i in $$(seq 1 50); do echo "s += kw_f$$i(1);"; done; \
	   echo "return s == 0; }"; } >$(dir $@)main.c
	$(CC) $(BASE_CFLAGS) -Wl,-z,now -o $@ $(dir $@)main.c -L$(dir $@) \
		$$(for i in $$(seq 1 50); do printf -- '-ll%d ' $$i; done) -Wl,-rpath,'$$ORIGIN'

$(BUILD)/bench/%.so: tools/bench/%.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) -fPIC -shared $(LDFLAGS) -o $@ $< -ldl

deps-bench:
	@tools/bench/install-bench-deps.sh

bench: deps-bench
	@$(MAKE) --no-print-directory lib $(BUILD)/kwtestd bench-tools $(BENCH_TLS_PROGS)
	@tools/bench/run.sh --build $(BUILD)
