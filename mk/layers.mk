# layers.mk - `make layers`: shim/ holds to its levels (SHIM_LEVELS, lowest
# first; shim/README.md). Each level links with only the levels below it,
# includes point down, libc is reached only through the real-function table
# below the wrappers, and no files call each other in a circle
# (tests/layers/check.sh; `make check` runs it).
.PHONY: layers
layers: $(SHIM_OBJS)
	@tests/layers/check.sh $(BUILD) $(SHIM_LEVELS)
