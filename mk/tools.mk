# tools.mk - the launcher (keepwarm), keepwarm-stat, and install/uninstall
# (which also installs the broker, keepwarmd, built by mk/broker.mk).
#   make tools                      build build/keepwarm and build/keepwarm-stat
#   make install [PREFIX=/usr/local] [DESTDIR=]
#   make uninstall [PREFIX=/usr/local] [DESTDIR=]
PREFIX ?= /usr/local
DESTDIR ?=

TOOLS = $(BUILD)/keepwarm $(BUILD)/keepwarm-stat
KWSTAT_SRCS = tools/keepwarm-stat.c tools/kwstat_input.c tools/kwstat_trace.c tools/kwstat_data.c \
              tools/kwstat_boot.c tools/kwstat_plot.c

.PHONY: tools install uninstall
tools: $(TOOLS)
# The behaviour tests (tests/behaviour/tools.sh) run both tools.
tests: $(TOOLS)

# The launcher validates values with the library's own parsers (config.o),
# so it accepts exactly what the library accepts.
# It asks for keepwarmd's hello the library's way (the protocol module) and
# starts one when none answers (tools/kwbroker_client.c).
LAUNCHER_LOGIC = $(addprefix $(BUILD)/shim/logic/,config.o dest_rules.o broker_proto.o dest.o key.o)
LAUNCHER_SRCS = tools/keepwarm.c tools/kwbroker_client.c
$(BUILD)/keepwarm: $(LAUNCHER_SRCS) tools/kwbroker_client.h $(LAUNCHER_LOGIC) shim/logic/config.h $(VERSION_FILE)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) -Ishim -DKW_MULTIARCH='"$(MULTIARCH)"' $(LDFLAGS) -o $@ $(LAUNCHER_SRCS) \
		$(LAUNCHER_LOGIC)

$(BUILD)/keepwarm-stat: $(KWSTAT_SRCS) tools/kwstat.h tools/kwstat_reader.h $(VERSION_FILE)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) -Ishim $(LDFLAGS) -o $@ $(KWSTAT_SRCS) -lm

# The library's directory: PREFIX/lib/keepwarm, or (the Debian package)
# /usr/lib/<triplet>/keepwarm; the launcher looks in both, beside its bin/.
PKGLIBDIR ?= $(PREFIX)/lib/keepwarm
KW_LIBDIR = $(DESTDIR)$(PKGLIBDIR)
KW_BINDIR = $(DESTDIR)$(PREFIX)/bin
KW_MANDIR = $(DESTDIR)$(PREFIX)/share/man/man1
# Where bash-completion looks (it searches $XDG_DATA_DIRS, /usr/local/share too).
KW_COMPDIR = $(DESTDIR)$(PREFIX)/share/bash-completion/completions
# systemd's user units (its search path has /usr/local/lib/systemd/user too).
KW_UNITDIR = $(DESTDIR)$(PREFIX)/lib/systemd/user

install: lib tools $(BUILD)/keepwarmd
	install -d $(KW_LIBDIR) $(KW_BINDIR) $(KW_MANDIR) $(KW_COMPDIR) $(KW_UNITDIR)
	install -m 644 $(BUILD)/libkeepwarm.so $(KW_LIBDIR)/libkeepwarm.so
	install -m 755 $(BUILD)/keepwarm $(KW_BINDIR)/keepwarm
	install -m 755 $(BUILD)/keepwarm-stat $(KW_BINDIR)/keepwarm-stat
	install -m 755 $(BUILD)/keepwarmd $(KW_BINDIR)/keepwarmd
	install -m 644 docs/keepwarm.1 $(KW_MANDIR)/keepwarm.1
	install -m 644 docs/keepwarm-stat.1 $(KW_MANDIR)/keepwarm-stat.1
	install -m 644 docs/keepwarmd.1 $(KW_MANDIR)/keepwarmd.1
	install -m 644 tools/completion/keepwarm.bash $(KW_COMPDIR)/keepwarm
	install -m 644 tools/completion/keepwarm.bash $(KW_COMPDIR)/keepwarm-stat
	install -m 644 tools/systemd/keepwarmd.socket $(KW_UNITDIR)/keepwarmd.socket
	sed 's|@BINDIR@|$(PREFIX)/bin|' tools/systemd/keepwarmd.service.in >$(KW_UNITDIR)/keepwarmd.service
	chmod 644 $(KW_UNITDIR)/keepwarmd.service

# The files install put there; lib/keepwarm/ too when that leaves it empty
# (it is ours).
uninstall:
	rm -f $(KW_LIBDIR)/libkeepwarm.so $(KW_BINDIR)/keepwarm $(KW_BINDIR)/keepwarm-stat \
		$(KW_BINDIR)/keepwarmd $(KW_MANDIR)/keepwarm.1 $(KW_MANDIR)/keepwarm-stat.1 \
		$(KW_MANDIR)/keepwarmd.1 \
		$(KW_COMPDIR)/keepwarm $(KW_COMPDIR)/keepwarm-stat \
		$(KW_UNITDIR)/keepwarmd.socket $(KW_UNITDIR)/keepwarmd.service
	rmdir $(KW_LIBDIR) 2>/dev/null || true
