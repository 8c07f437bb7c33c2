# mk/bench.mk - `make bench`: the side-by-side benchmark (tools/bench/).
#   make bench        install its Debian packages, build, run (< 10 min on 2 cores)
#   make bench-tools  build only the benchmark programs
BENCH_PROGS = $(addprefix $(BUILD)/bench/,delayproxy reqloop benchserv scale untracked connectdelay.so)
# Not part of a plain `make`: the smoke test (tests/behaviour/bench-smoke.sh)
# builds them; `make check` installs the proxies it needs.
deps-check: deps-bench

.PHONY: bench bench-tools deps-bench
bench-tools: $(BENCH_PROGS)

$(BUILD)/bench/%: tools/bench/%.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(LDFLAGS) -o $@ $<

$(BUILD)/bench/%.so: tools/bench/%.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) -fPIC -shared $(LDFLAGS) -o $@ $< -ldl

deps-bench:
	@tools/bench/install-bench-deps.sh

bench: deps-bench
	@$(MAKE) --no-print-directory lib $(BUILD)/kwtestd bench-tools
	@tools/bench/run.sh --build $(BUILD)
