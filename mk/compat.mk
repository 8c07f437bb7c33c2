# The compatibility suite (tests/compat/): real Debian programs against
# Debian's nginx, without and with the shim. `make check` runs it among the
# behaviour scripts (tests/behaviour/compat.sh); `make compat` runs it
# alone, and `make compat COMPAT="curl-multi ka-timeout"` only the programs
# and responses named.
.PHONY: compat deps-compat
COMPAT ?=

deps-compat:
	@tests/compat/install-deps.sh

compat: deps-compat lib $(BUILD)/clients/fortified $(BUILD)/tls/curl_client-gnutls \
        $(BUILD)/tls/curl_client-openssl
	@tests/compat/suite.sh $(BUILD) $(COMPAT)
