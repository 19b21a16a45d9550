# plugins/security.mk - build rules for the security plugins, included by plugins/local.mk.
# starttls (RFC 3207) links OpenSSL; auth (RFC 4954) links Cyrus SASL.

plugin_LTLIBRARIES += plugins/starttls.la
plugins_starttls_la_SOURCES = plugins/starttls.c
plugins_starttls_la_CFLAGS = $(PLUGIN_CFLAGS) $(OPENSSL_CFLAGS)
plugins_starttls_la_LDFLAGS = $(PLUGIN_LDFLAGS)
plugins_starttls_la_LIBADD = proto/libproto_plugin.la $(CONFUSE_LIBS) \
	$(OPENSSL_LIBS)

plugin_LTLIBRARIES += plugins/auth.la
# The xtext of AUTH= is proto/esmtp.c's (the grammar lives once).
plugins_auth_la_SOURCES = plugins/auth.c plugins/auth_parse.c \
	plugins/auth_parse.h plugins/auth_step.c plugins/auth_step.h \
	plugins/plugin_threads.c plugins/plugin_threads.h
plugins_auth_la_CFLAGS = $(PLUGIN_CFLAGS) $(SASL_CFLAGS)
plugins_auth_la_LDFLAGS = $(PLUGIN_LDFLAGS)
plugins_auth_la_LIBADD = proto/libproto_plugin.la $(CONFUSE_LIBS) $(SASL_LIBS) \
	-lpthread

# The parsers of the auth plugin (AUTH argument, base64 responses,
# xtext): plugins/auth_parse.c, compiled into the test as into the plugin.
check_PROGRAMS += tests/unit/test_auth_parse
TESTS += tests/unit/test_auth_parse
tests_unit_test_auth_parse_SOURCES = tests/unit/test_auth_parse.c \
	plugins/auth_parse.c plugins/auth_parse.h
tests_unit_test_auth_parse_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) \
	$(SASL_CFLAGS)
tests_unit_test_auth_parse_LDADD = proto/libproto.la $(CHECK_LIBS) \
	$(SASL_LIBS)

SECURITY_INTEROP_TESTS = tests/interop/test_starttls.py \
	tests/interop/test_auth.py tests/interop/test_auth_saslauthd.py
TESTS += $(SECURITY_INTEROP_TESTS)
EXTRA_DIST += $(SECURITY_INTEROP_TESTS)

dist_man_MANS += docs/ehlod-plugin-starttls.5 docs/ehlod-plugin-auth.5
