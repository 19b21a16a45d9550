# client/local.mk - build rules for client/, included by the top Makefile.am:
# the RFC 1869 client library, ehlod-send and the client's tests.  Reply
# parsing and the EHLO keyword table are the client's grammar; they live
# in proto/ (see proto/local.mk) with the rest of it.

# Unit tests of the client's grammar modules.
CLIENT_TEST_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(LIBEVENT_CFLAGS)
CLIENT_TEST_LIBS = proto/libproto.la $(CHECK_LIBS) $(LIBEVENT_LIBS)

check_PROGRAMS += tests/unit/test_client_reply tests/unit/test_client_ehlo \
	tests/unit/test_client_message
TESTS += tests/unit/test_client_reply tests/unit/test_client_ehlo \
	tests/unit/test_client_message
tests_unit_test_client_reply_SOURCES = tests/unit/test_client_reply.c
tests_unit_test_client_reply_CFLAGS = $(CLIENT_TEST_CFLAGS)
tests_unit_test_client_reply_LDADD = $(CLIENT_TEST_LIBS)
tests_unit_test_client_ehlo_SOURCES = tests/unit/test_client_ehlo.c
tests_unit_test_client_ehlo_CFLAGS = $(CLIENT_TEST_CFLAGS)
tests_unit_test_client_ehlo_LDADD = $(CLIENT_TEST_LIBS)
tests_unit_test_client_message_SOURCES = tests/unit/test_client_message.c
tests_unit_test_client_message_CPPFLAGS = $(AM_CPPFLAGS) -I$(srcdir)/client
tests_unit_test_client_message_CFLAGS = $(CLIENT_TEST_CFLAGS)
tests_unit_test_client_message_LDADD = client/libclient.la $(CLIENT_TEST_LIBS)

# The sized structures of <ehlod/client.h>, through the installed library.
check_PROGRAMS += tests/unit/test_client_abi
TESTS += tests/unit/test_client_abi
tests_unit_test_client_abi_SOURCES = tests/unit/test_client_abi.c
tests_unit_test_client_abi_CPPFLAGS = $(AM_CPPFLAGS) -I$(srcdir)/api
tests_unit_test_client_abi_CFLAGS = $(CLIENT_TEST_CFLAGS)
tests_unit_test_client_abi_LDADD = client/libehlod-client.la \
	$(CHECK_LIBS) $(LIBEVENT_LIBS)

# ehlod_client_data_stream driven against real servers: the program, run
# by tests/interop/test_client_stream.py.
check_PROGRAMS += tests/unit/client_stream_send
tests_unit_client_stream_send_SOURCES = tests/unit/client_stream_send.c
tests_unit_client_stream_send_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS)
tests_unit_client_stream_send_LDADD = client/libclient.la \
	proto/libproto.la $(LIBEVENT_LIBS)

# The client code, once: a convenience library that both the installed
# library and the relay plugin (which must not depend on an installed
# libehlod-client at dlopen time) link.
noinst_LTLIBRARIES += client/libclient.la
client_libclient_la_SOURCES = client/private.h client/client.c \
	client/connection.c client/client_starttls.c client/login.c \
	client/command.c client/transaction.c client/client_xforward.c \
	client/client_session.c client/job.c client/result.c \
	client/safety.c client/safety.h \
	client/client_auth.c client/client_auth.h \
	client/client_message.c client/client_message.h \
	client/client_stream.c client/tls_sessions.c \
	core/linereader.c core/linereader.h
client_libclient_la_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) \
	$(OPENSSL_CFLAGS) $(SASL_CFLAGS)
client_libclient_la_LIBADD = proto/libproto.la $(LIBEVENT_LIBS) \
	$(OPENSSL_LIBS) $(SASL_LIBS)

# The client library, installed with its header as <ehlod/client.h>.
# -version-info 0:0:0 is 1.0; HACKING.md ("The two ABIs") says how it moves.
lib_LTLIBRARIES += client/libehlod-client.la
client_libehlod_client_la_SOURCES =
client_libehlod_client_la_LIBADD = client/libclient.la
client_libehlod_client_la_LDFLAGS = $(AM_LDFLAGS) -version-info 0:0:0 \
	-export-symbols-regex '^ehlod_client_'
ehlodincludedir = $(includedir)/ehlod
ehlodinclude_HEADERS = api/ehlod/client.h
dist_man_MANS += docs/ehlod-client.3

# The command-line client.
bin_PROGRAMS += client/ehlod-send
client_ehlod_send_SOURCES = client/ehlod-send.c
client_ehlod_send_LDADD = client/libehlod-client.la
dist_man_MANS += docs/ehlod-send.1

# Interop tests of the client against peers we did not write (smtp-sink,
# aiosmtpd); test_client_support.py holds their helpers and is no test.
CLIENT_INTEROP_TESTS = \
	tests/interop/test_client_ehlo.py \
	tests/interop/test_client_fallback.py \
	tests/interop/test_client_421.py \
	tests/interop/test_client_reconnect.py \
	tests/interop/test_client_offered.py \
	tests/interop/test_client_tls.py \
	tests/interop/test_client_auth.py \
	tests/interop/test_client_injection.py \
	tests/interop/test_client_lmtp.py \
	tests/interop/test_client_delivery.py \
	tests/interop/test_client_relay.py \
	tests/interop/test_client_binarymime.py \
	tests/interop/test_client_stream.py
TESTS += $(CLIENT_INTEROP_TESTS)
EXTRA_DIST += $(CLIENT_INTEROP_TESTS) tests/interop/test_client_support.py

# The relay delivery plugin: the client library inside the server.  Only
# the descriptor is exported, although the client code is linked in.
plugin_LTLIBRARIES += plugins/relay.la
plugins_relay_la_SOURCES = plugins/relay.c
plugins_relay_la_CFLAGS = $(PLUGIN_CFLAGS)
plugins_relay_la_LDFLAGS = $(PLUGIN_LDFLAGS) -export-symbols-regex '^ehlod_plugin$$'
plugins_relay_la_LIBADD = client/libclient.la $(CONFUSE_LIBS)
dist_man_MANS += docs/ehlod-plugin-relay.5

# The relay as a before-queue proxy: per-recipient verdicts from aiosmtpd,
# and ehlod as a private Postfix's smtpd_proxy_filter end to end; the
# client against a private Postfix smtpd with and without STARTTLS; the
# relay's XFORWARD to a private Postfix that offers it, and not otherwise;
# a next hop by name (smtp-sink at localhost) looked up without the loop
# reading the resolver's files; STARTTLS to aiosmtpd with a CA file
# loaded once, as root.  postfixtest.py runs the private Postfix
# instances and is no test.
TESTS += tests/interop/test_relay_recipients.py \
	tests/interop/test_relay_hop.py \
	tests/interop/test_relay_tls.py \
	tests/interop/test_relay_postfix.py \
	tests/interop/test_relay_xforward.py \
	tests/interop/test_relay_resolver.py \
	tests/interop/test_client_postfix.py
EXTRA_DIST += tests/interop/test_relay_recipients.py \
	tests/interop/test_relay_hop.py \
	tests/interop/test_relay_tls.py \
	tests/interop/test_relay_postfix.py \
	tests/interop/test_relay_xforward.py \
	tests/interop/test_relay_resolver.py \
	tests/interop/test_client_postfix.py tests/interop/postfixtest.py
