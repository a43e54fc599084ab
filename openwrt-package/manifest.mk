# Reads a package's ./manifest for its OpenWrt SDK Makefile (format: x0tta6bl4/manifest). Included after
# package.mk; scripts/package.sh reads the same file, and test/package checks the two agree.
X0_REPO:=$(abspath $(CURDIR)/../..)
X0_MANIFEST:=$(CURDIR)/manifest
# $(call x0_field,NAME): every value of field NAME, joined by spaces.
x0_field=$(strip $(shell sed -n 's/^$(1)[[:space:]]\{1,\}//p' $(X0_MANIFEST)))
# $(call x0_script,NAME): the maintainer script the manifest names for NAME, verbatim.
x0_script=$(if $(call x0_field,$(1)),$(file <$(CURDIR)/$(call x0_field,$(1))))
# $(call x0_install,DESTDIR,NAME=PATH ...): the manifest's files into DESTDIR.
x0_install=sh $(X0_REPO)/openwrt-package/install-files.sh $(X0_MANIFEST) $(X0_REPO) $(1) $(2)
