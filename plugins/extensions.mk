# plugins/extensions.mk - build rules for the extensions plugins, included by plugins/local.mk.
# The service extensions -- dsn (RFC 3461), chunking and
# binarymime (RFC 3030), smtputf8 (RFC 6531) -- and the asynchronous
# dnsbl plugin; the unit tests of their parsers, their interop tests and
# man pages.  Each plugin's pure parsing is in proto/ (dsn_parse.c,
# bdat_parse.c, utf8.c, dnsbl_query.c): the plugin links it through
# proto/libproto_plugin.la (hidden visibility), its unit test through
# proto/libproto.la.

plugin_LTLIBRARIES += plugins/dsn.la
plugins_dsn_la_SOURCES = plugins/dsn.c
plugins_dsn_la_CFLAGS = $(PLUGIN_CFLAGS)
plugins_dsn_la_LDFLAGS = $(PLUGIN_LDFLAGS)
plugins_dsn_la_LIBADD = proto/libproto_plugin.la $(CONFUSE_LIBS)

plugin_LTLIBRARIES += plugins/chunking.la
plugins_chunking_la_SOURCES = plugins/chunking.c
plugins_chunking_la_CFLAGS = $(PLUGIN_CFLAGS)
plugins_chunking_la_LDFLAGS = $(PLUGIN_LDFLAGS)
plugins_chunking_la_LIBADD = proto/libproto_plugin.la $(CONFUSE_LIBS)

plugin_LTLIBRARIES += plugins/binarymime.la
plugins_binarymime_la_SOURCES = plugins/binarymime.c
plugins_binarymime_la_CFLAGS = $(PLUGIN_CFLAGS)
plugins_binarymime_la_LDFLAGS = $(PLUGIN_LDFLAGS)
plugins_binarymime_la_LIBADD = $(CONFUSE_LIBS)

plugin_LTLIBRARIES += plugins/smtputf8.la
plugins_smtputf8_la_SOURCES = plugins/smtputf8.c
plugins_smtputf8_la_CFLAGS = $(PLUGIN_CFLAGS)
plugins_smtputf8_la_LDFLAGS = $(PLUGIN_LDFLAGS)
plugins_smtputf8_la_LIBADD = proto/libproto_plugin.la $(CONFUSE_LIBS)

plugin_LTLIBRARIES += plugins/dnsbl.la
plugins_dnsbl_la_SOURCES = plugins/dnsbl.c
plugins_dnsbl_la_CFLAGS = $(PLUGIN_CFLAGS) $(LIBEVENT_CFLAGS)
plugins_dnsbl_la_LDFLAGS = $(PLUGIN_LDFLAGS)
plugins_dnsbl_la_LIBADD = proto/libproto_plugin.la $(CONFUSE_LIBS) \
	$(LIBEVENT_LIBS)

dist_man_MANS += docs/ehlod-plugin-dsn.5 docs/ehlod-plugin-chunking.5 \
	docs/ehlod-plugin-binarymime.5 docs/ehlod-plugin-smtputf8.5 \
	docs/ehlod-plugin-dnsbl.5

# Unit tests of the parsers (check), linked with proto/libproto.la.
EXT_TEST_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
EXT_UNIT_TESTS = tests/unit/test_dsn_parse tests/unit/test_bdat_parse \
	tests/unit/test_utf8 tests/unit/test_dnsbl_query
check_PROGRAMS += $(EXT_UNIT_TESTS)
TESTS += $(EXT_UNIT_TESTS)

tests_unit_test_dsn_parse_SOURCES = tests/unit/test_dsn_parse.c
tests_unit_test_dsn_parse_CFLAGS = $(EXT_TEST_CFLAGS)
tests_unit_test_dsn_parse_LDADD = proto/libproto.la $(CHECK_LIBS)

tests_unit_test_bdat_parse_SOURCES = tests/unit/test_bdat_parse.c
tests_unit_test_bdat_parse_CFLAGS = $(EXT_TEST_CFLAGS)
tests_unit_test_bdat_parse_LDADD = proto/libproto.la $(CHECK_LIBS)

tests_unit_test_utf8_SOURCES = tests/unit/test_utf8.c
tests_unit_test_utf8_CFLAGS = $(EXT_TEST_CFLAGS)
tests_unit_test_utf8_LDADD = proto/libproto.la $(CHECK_LIBS)

tests_unit_test_dnsbl_query_SOURCES = tests/unit/test_dnsbl_query.c
tests_unit_test_dnsbl_query_CFLAGS = $(EXT_TEST_CFLAGS)
tests_unit_test_dnsbl_query_LDADD = proto/libproto.la $(CHECK_LIBS)

# A delivery step for the tests only: writes the message exactly as the
# host hands it over (test_chunking proves BDAT content byte for byte).
check_LTLIBRARIES += tests/plugins/capture.la
tests_plugins_capture_la_SOURCES = tests/plugins/capture.c
tests_plugins_capture_la_CFLAGS = $(PLUGIN_CFLAGS)
tests_plugins_capture_la_LDFLAGS = $(PLUGIN_CHECK_LDFLAGS)
tests_plugins_capture_la_LIBADD = $(CONFUSE_LIBS)

# Interop tests: real peers (smtplib, raw sockets, dnsmasq) against ehlod.
EXT_INTEROP_TESTS = tests/interop/test_dsn.py \
	tests/interop/test_chunking.py tests/interop/test_smtputf8.py \
	tests/interop/test_dnsbl.py tests/interop/test_body_chunks.py
TESTS += $(EXT_INTEROP_TESTS)
EXTRA_DIST += $(EXT_INTEROP_TESTS)
