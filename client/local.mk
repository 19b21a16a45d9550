# client/local.mk - build rules for client/, included by the top Makefile.am:
# the RFC 1869 client library, ehlod-send, the reply and EHLO-table parts of
# the shared proto library, and the client's tests.

# Reply parsing and the EHLO keyword table live in proto/ because the
# grammar is shared; the client owns these two modules.
proto_libproto_la_SOURCES += proto/reply.c proto/reply.h \
	proto/ehlo_table.c proto/ehlo_table.h

# Unit tests of the client's grammar modules.
CLIENT_TEST_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(LIBEVENT_CFLAGS)
CLIENT_TEST_LIBS = proto/libproto.la $(CHECK_LIBS) $(LIBEVENT_LIBS)

check_PROGRAMS += tests/unit/test_client_reply tests/unit/test_client_ehlo
TESTS += tests/unit/test_client_reply tests/unit/test_client_ehlo
tests_unit_test_client_reply_SOURCES = tests/unit/test_client_reply.c
tests_unit_test_client_reply_CFLAGS = $(CLIENT_TEST_CFLAGS)
tests_unit_test_client_reply_LDADD = $(CLIENT_TEST_LIBS)
tests_unit_test_client_ehlo_SOURCES = tests/unit/test_client_ehlo.c
tests_unit_test_client_ehlo_CFLAGS = $(CLIENT_TEST_CFLAGS)
tests_unit_test_client_ehlo_LDADD = $(CLIENT_TEST_LIBS)
