# docs/local.mk - build rules for docs/, included by the top Makefile.am.
# The manual pages of the server, its configuration, the plugin ABI and the
# first plugins; the example plugin for authors, built out of tree by
# tests/interop/test_example_plugin.py; and the test of the default config.
# (Other parts list their own pages in their local.mk.)

dist_man_MANS += docs/ehlod.conf.5 docs/ehlod-plugin.3
# Pages that name install paths are made with the configured ones.
man_MANS = docs/ehlod.8
EXTRA_DIST += docs/ehlod.8.in
CLEANFILES += docs/ehlod.8
docs/ehlod.8: $(srcdir)/docs/ehlod.8.in Makefile
	$(AM_V_GEN)$(MKDIR_P) docs && $(EHLOD_SUBST_PATHS) \
	    $(srcdir)/docs/ehlod.8.in > $@
dist_man_MANS += docs/ehlod-plugin-size.5 docs/ehlod-plugin-pipelining.5 \
	docs/ehlod-plugin-8bitmime.5 docs/ehlod-plugin-enhancedstatuscodes.5 \
	docs/ehlod-plugin-maildir.5 docs/ehlod-plugin-discard.5

# The example plugins and their Makefile, installed where ehlod-plugin(3)
# points authors: $(docdir)/examples (share/doc/ehlod/examples).
exampledir = $(docdir)/examples
dist_example_DATA = examples/hello/hello.c examples/hello/tour.c \
	examples/hello/localuser.c \
	examples/hello/Makefile

TESTS += tests/interop/test_example_plugin.py \
	tests/interop/test_default_config.py
EXTRA_DIST += tests/interop/test_example_plugin.py \
	tests/interop/test_default_config.py
