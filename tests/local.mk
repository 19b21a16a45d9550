# tests/local.mk - the test suite, included by the top Makefile.am.
# Unit tests (check) link the convenience libraries; interop tests are
# Python scripts that start the built ehlod on a free loopback port (see
# tests/interop/ehlodtest.py) and drive it with real peers.

include $(srcdir)/tests/plugins/local.mk

TEST_EXTENSIONS = .py
PY_LOG_COMPILER = $(PYTHON3)
AM_TESTS_ENVIRONMENT = \
	EHLOD_BIN='$(abs_top_builddir)/core/ehlod'; export EHLOD_BIN; \
	EHLOD_PLUGIN_DIR='$(abs_top_builddir)/plugins/.libs'; \
	export EHLOD_PLUGIN_DIR; \
	EHLOD_TEST_PLUGIN_DIR='$(abs_top_builddir)/tests/plugins/.libs'; \
	export EHLOD_TEST_PLUGIN_DIR; \
	EHLOD_SRCDIR='$(abs_top_srcdir)'; export EHLOD_SRCDIR; \
	EHLOD_BUILDDIR='$(abs_top_builddir)'; export EHLOD_BUILDDIR; \
	PYTHONPATH='$(abs_top_srcdir)/tests/interop'; export PYTHONPATH; \
	PYTHONDONTWRITEBYTECODE=1; export PYTHONDONTWRITEBYTECODE;

# Unit tests of the shared grammar (proto/).
PROTO_TEST_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(LIBEVENT_CFLAGS)
PROTO_TEST_LIBS = proto/libproto.la $(CHECK_LIBS) $(LIBEVENT_LIBS)

check_PROGRAMS += tests/unit/test_linereader tests/unit/test_esmtp \
	tests/unit/test_address
TESTS += tests/unit/test_linereader tests/unit/test_esmtp \
	tests/unit/test_address
tests_unit_test_linereader_SOURCES = tests/unit/test_linereader.c
tests_unit_test_linereader_CFLAGS = $(PROTO_TEST_CFLAGS)
tests_unit_test_linereader_LDADD = $(PROTO_TEST_LIBS)
tests_unit_test_esmtp_SOURCES = tests/unit/test_esmtp.c
tests_unit_test_esmtp_CFLAGS = $(PROTO_TEST_CFLAGS)
tests_unit_test_esmtp_LDADD = $(PROTO_TEST_LIBS)
tests_unit_test_address_SOURCES = tests/unit/test_address.c
tests_unit_test_address_CFLAGS = $(PROTO_TEST_CFLAGS)
tests_unit_test_address_LDADD = $(PROTO_TEST_LIBS)

# Interop tests: one script per area.
INTEROP_TESTS = \
	tests/interop/test_ehlo.py \
	tests/interop/test_commands.py \
	tests/interop/test_sequence.py \
	tests/interop/test_mail_params.py \
	tests/interop/test_rcpt.py \
	tests/interop/test_data.py \
	tests/interop/test_delivery.py \
	tests/interop/test_enhanced.py \
	tests/interop/test_pipelining.py \
	tests/interop/test_timeouts.py \
	tests/interop/test_shutdown.py \
	tests/interop/test_pending.py \
	tests/interop/test_config.py \
	tests/interop/test_logging.py \
	tests/interop/test_swaks.py
TESTS += $(INTEROP_TESTS)
EXTRA_DIST += $(INTEROP_TESTS) tests/interop/ehlodtest.py
