# broker.mk - keepwarmd, the per-user broker (tools/keepwarmd.c).
#   make broker        build build/keepwarmd
# It links the library's pure logic it shares with the shim: the protocol,
# the configuration, keys and the idle table.
BROKER_SRCS = tools/keepwarmd.c tools/kwbroker_check.c tools/kwbroker_stats.c tools/kwbroker_socket.c \
              tools/kwbroker_dests.c
BROKER_LOGIC = $(addprefix $(BUILD)/shim/logic/,broker_proto.o config.o dest.o dest_rules.o idle_table.o \
                  key.o)

.PHONY: broker
broker: $(BUILD)/keepwarmd
tools: $(BUILD)/keepwarmd
tests: $(BUILD)/keepwarmd

$(BUILD)/keepwarmd: $(BROKER_SRCS) tools/kwbroker.h tools/kwbroker_stats.h tools/kwbroker_dests.h $(BROKER_LOGIC) $(VERSION_FILE)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) -Ishim $(LDFLAGS) -o $@ $(BROKER_SRCS) $(BROKER_LOGIC)
