# Stand-in for the SDK's include/package.mk (test/package only). BuildPackage here does what the real one does
# with a package's definitions, minus building: evaluates Package/<name> (TITLE, SECTION, DEPENDS, ...), and
# `make x0-dump` writes them, the description, conffiles and postinst to $(X0_DUMP)/ and runs
# Package/<name>/install into $(X0_DUMP)/root (X0_DUMP must exist: make expands the recipe first), so the suite can compare them with scripts/package.sh's output.
define BuildPackage
$$(eval $$(Package/$(1)))
x0-dump:
	mkdir -p $(X0_DUMP)/root
	printf '%s\n' 'name $(1)' 'title $$(TITLE)' 'section $$(SECTION)' 'category $$(CATEGORY)' 'depends $$(strip $$(DEPENDS))' 'version $$(PKG_VERSION)-$$(PKG_RELEASE)' 'license $$(PKG_LICENSE)' > $(X0_DUMP)/meta
	$$(file >$(X0_DUMP)/description,$$(strip $$(Package/$(1)/description)))
	$$(file >$(X0_DUMP)/conffiles,$$(strip $$(Package/$(1)/conffiles)))
	$$(if $$(Package/$(1)/postinst),$$(file >$(X0_DUMP)/postinst,$$(Package/$(1)/postinst)))
	$$(call Package/$(1)/install,$(X0_DUMP)/root)
endef
