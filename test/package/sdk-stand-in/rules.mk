# Stand-in for the OpenWrt SDK's rules.mk (test/package only: the SDK cannot be downloaded here). Just the
# variables our package Makefiles read; PKG_BUILD_DIR holds the build outputs the suite puts there.
INCLUDE_DIR:=$(TOPDIR)/include
BUILD_DIR:=$(X0_SDK_BUILD)
PKG_BUILD_DIR=$(BUILD_DIR)/$(PKG_NAME)
