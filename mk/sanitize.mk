# sanitize.mk - the library and the unit tests under AddressSanitizer and
# UndefinedBehaviorSanitizer, built into $(BUILD)/asan; valgrind memcheck.
#   make asan       build $(BUILD)/asan/libkeepwarm.so, keepwarmd and unit/*
#   make sanitize   build everything, run tests/analysis/sanitize.sh
#   make valgrind   build everything, run tests/analysis/valgrind.sh
# ASAN_CFLAGS (default -O1 -g) is added to the sanitizer flags.
ASAN_CFLAGS   ?= -O1 -g
SANITIZE_FLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
ASAN_BUILD     = $(BUILD)/asan

.PHONY: asan sanitize valgrind
# A recursive make with BUILD=$(BUILD)/asan and the sanitizer flags as CFLAGS,
# so the ordinary rules build the sanitized objects.
asan:
	@$(MAKE) --no-print-directory BUILD=$(ASAN_BUILD) \
		CFLAGS="$(ASAN_CFLAGS) $(SANITIZE_FLAGS)" LDFLAGS="$(LDFLAGS)" \
		$(ASAN_BUILD)/libkeepwarm.so $(ASAN_BUILD)/keepwarmd \
		$(patsubst $(BUILD)/%,$(ASAN_BUILD)/%,$(UNIT_TESTS))

sanitize: all asan
	@tests/analysis/sanitize.sh $(BUILD)

valgrind: all
	@tests/analysis/valgrind.sh $(BUILD)
