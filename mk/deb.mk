# deb.mk - the Debian package (debian/).
#   make deb         build $(BUILD)/deb/keepwarm_VERSION_ARCH.deb and
#                    keepwarm-preload_VERSION_ARCH.deb (dpkg-buildpackage
#                    -us -uc -b on a copy of the tree in $(BUILD)/deb/src)
#   make deb-check   build it twice (the same bytes), lintian, install it with
#                    apt, use it, purge it (root; the host is left as it was)
.PHONY: deb deb-check
deb:
	@tools/deb/build.sh $(BUILD)/deb

deb-check:
	@tests/run-all.sh $(BUILD) package
