# Fuzzing (tests/fuzz/): libFuzzer harnesses over the pure shim sources,
# built with Debian's clang, AddressSanitizer and UBSan.
#   make fuzz-build                  build $(BUILD)/fuzz/<harness>
#   make fuzz FUZZ_SECONDS=300       run each harness that long on a copy of
#                                    its seed corpus ($(BUILD)/fuzz/corpus-work)
#   make fuzz FUZZ_HARNESSES=fuzz_upgrade   only the harnesses named
# `make check` runs tests/analysis/fuzz.sh: the regression inputs and seeds
# replayed, no random fuzzing.
FUZZ_CC       ?= clang
FUZZ_SECONDS  ?= 300
FUZZ_CFLAGS   ?= -g -O1 -fno-omit-frame-pointer
FUZZ_SAN       = -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_ALL       = fuzz_track fuzz_upgrade fuzz_config fuzz_broker
FUZZ_HARNESSES ?= $(FUZZ_ALL)
FUZZ_BINS      = $(addprefix $(BUILD)/fuzz/,$(FUZZ_ALL))
# The shim sources each harness links (pure logic only, no interposition).
FUZZ_SRC_fuzz_track   = shim/logic/http_track.c shim/logic/catalog.c
FUZZ_SRC_fuzz_upgrade = shim/logic/upgrade.c
FUZZ_SRC_fuzz_config  = shim/logic/config.c shim/logic/dest_rules.c
FUZZ_SRC_fuzz_broker  = shim/logic/broker_proto.c shim/logic/key.c shim/logic/dest.c

.PHONY: fuzz fuzz-build deps-fuzz
deps-fuzz:
	@tests/fuzz/install-deps.sh

fuzz-build: $(FUZZ_BINS)

# One rule per harness (no .SECONDEXPANSION: it would change other files' rules).
define FUZZ_RULE
$(BUILD)/fuzz/$(1): tests/fuzz/$(1).c $(FUZZ_SRC_$(1)) $(patsubst %.c,%.h,$(FUZZ_SRC_$(1)))
	@mkdir -p $$(dir $$@)
	$$(FUZZ_CC) $$(FUZZ_CFLAGS) $$(FUZZ_SAN) $$(WARN) -std=gnu11 -D_GNU_SOURCE -Ishim \
		-o $$@ $$< $(FUZZ_SRC_$(1)) -lhttp_parser
endef
$(foreach h,$(FUZZ_ALL),$(eval $(call FUZZ_RULE,$(h))))

fuzz: deps-fuzz
	@$(MAKE) --no-print-directory $(addprefix $(BUILD)/fuzz/,$(FUZZ_HARNESSES))
	@set -e; for h in $(FUZZ_HARNESSES); do \
		w=$(BUILD)/fuzz/corpus-work/$$h; mkdir -p $$w $(BUILD)/fuzz/artifacts/$$h; \
		cp -n tests/fuzz/corpus/$$h/* $$w/ 2>/dev/null || true; \
		if [ -d tests/fuzz/regress/$$h ] && ls tests/fuzz/regress/$$h/* >/dev/null 2>&1; then \
			echo "== $$h: regression inputs"; $(BUILD)/fuzz/$$h tests/fuzz/regress/$$h/*; fi; \
		echo "== $$h: $(FUZZ_SECONDS) s"; \
		$(BUILD)/fuzz/$$h -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 -timeout=10 \
			-print_final_stats=1 -artifact_prefix=$(BUILD)/fuzz/artifacts/$$h/ $$w; \
	done

# `make fuzz-differential` compares the decisions of the pure HTTP code at
# FUZZ_BASE (default: tests/fuzz/differential.sh's) with the working tree's,
# over the seeds, the regression inputs and FUZZ_DIFF_DIRS.
FUZZ_BASE      ?=
FUZZ_DIFF_DIRS ?=
.PHONY: fuzz-differential
fuzz-differential:
	@tests/fuzz/differential.sh --build $(BUILD) $(if $(FUZZ_BASE),--base $(FUZZ_BASE)) $(FUZZ_DIFF_DIRS)
