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
	EHLOD_FIXTURE_DIR='$(abs_top_builddir)/tests/unit/.libs'; \
	export EHLOD_FIXTURE_DIR; \
	EHLOD_SRCDIR='$(abs_top_srcdir)'; export EHLOD_SRCDIR; \
	EHLOD_BUILDDIR='$(abs_top_builddir)'; export EHLOD_BUILDDIR; \
	PYTHONPATH='$(abs_top_srcdir)/tests/interop'; export PYTHONPATH; \
	PYTHONDONTWRITEBYTECODE=1; export PYTHONDONTWRITEBYTECODE;

# Every test waits for the preflight: a peer that is missing or lacks a
# capability the tests need stops "make check" with one line naming the
# Debian package, instead of failing deep inside one test.
.PHONY: check-preflight
check-preflight:
	@$(SHELL) $(srcdir)/tests/preflight
$(TEST_LOGS): check-preflight
EXTRA_DIST += tests/preflight

# Unit tests of the shared grammar (proto/).
PROTO_TEST_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
PROTO_TEST_LIBS = proto/libproto.la $(CHECK_LIBS)

check_PROGRAMS += tests/unit/test_esmtp tests/unit/test_address \
	tests/unit/test_enhanced_code tests/unit/test_xmalloc
TESTS += tests/unit/test_esmtp tests/unit/test_address \
	tests/unit/test_enhanced_code tests/unit/test_xmalloc
tests_unit_test_xmalloc_SOURCES = tests/unit/test_xmalloc.c
tests_unit_test_xmalloc_CFLAGS = $(PROTO_TEST_CFLAGS)
tests_unit_test_xmalloc_LDADD = $(PROTO_TEST_LIBS)
tests_unit_test_enhanced_code_SOURCES = tests/unit/test_enhanced_code.c
tests_unit_test_enhanced_code_CFLAGS = $(PROTO_TEST_CFLAGS)
tests_unit_test_enhanced_code_LDADD = $(PROTO_TEST_LIBS)
tests_unit_test_esmtp_SOURCES = tests/unit/test_esmtp.c
tests_unit_test_esmtp_CFLAGS = $(PROTO_TEST_CFLAGS)
tests_unit_test_esmtp_LDADD = $(PROTO_TEST_LIBS)
tests_unit_test_address_SOURCES = tests/unit/test_address.c
tests_unit_test_address_CFLAGS = $(PROTO_TEST_CFLAGS)
tests_unit_test_address_LDADD = $(PROTO_TEST_LIBS)

# Interop tests: one script per area.
INTEROP_TESTS = \
	tests/interop/test_spool.py \
	tests/interop/test_abi_old_plugin.py \
	tests/interop/test_spool_relay.py \
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
	tests/interop/test_session_bounds.py \
	tests/interop/test_trust.py \
	tests/interop/test_content_bounds.py \
	tests/interop/test_maildir_space.py \
	tests/interop/test_maildir_flush.py \
	tests/interop/test_maildir_order.py \
	tests/interop/test_maildir_crash.py \
	tests/interop/test_milter_packets.py \
	tests/interop/test_supervision.py \
	tests/interop/test_fail2ban.py \
	tests/interop/test_flushlog.py \
	tests/interop/test_bench_setup.py \
	tests/interop/test_packaging.py \
	tests/interop/test_systemd_live.py \
	tests/interop/test_limits.py \
	tests/interop/test_listeners.py \
	tests/interop/test_status.py \
	tests/interop/test_xforward.py \
	tests/interop/test_shutdown.py \
	tests/interop/test_pending.py \
	tests/interop/test_explicit_context.py \
	tests/interop/test_example_tour.py \
	tests/interop/test_example_localuser.py \
	tests/interop/test_man_snippets.py \
	tests/interop/test_reports.py \
	tests/interop/test_config.py \
	tests/interop/test_logging.py \
	tests/interop/test_logrotate.py \
	tests/interop/test_plugin_api.py \
	tests/interop/test_process.py \
	tests/interop/test_swaks.py
TESTS += $(INTEROP_TESTS)
EXTRA_DIST += $(INTEROP_TESTS) tests/interop/ehlodtest.py

# Fixture plugins for the loader tests and the plugin verb/parameter tests:
# one source built once per FIXTURE_* variant (tests/unit/.libs/NAME.so).
FIXTURE_SRC = tests/unit/test_fixture_plugin.c
FIXTURE_CFLAGS = $(PLUGIN_CFLAGS)
check_LTLIBRARIES += tests/unit/fixture.la tests/unit/fixture_badmajor.la \
	tests/unit/fixture_newminor.la tests/unit/fixture_small.la \
	tests/unit/fixture_nosym.la tests/unit/fixture_dupsize.la \
	tests/unit/fixture_dupbody.la tests/unit/fixture_dupverb.la \
	tests/unit/fixture_coreverb.la tests/unit/fixture_badcounter.la \
	tests/unit/fixture_opttype.la tests/unit/fixture_opttwice.la
tests_unit_fixture_la_SOURCES = $(FIXTURE_SRC)
tests_unit_fixture_la_CFLAGS = $(FIXTURE_CFLAGS) -DFIXTURE_GOOD
tests_unit_fixture_la_LDFLAGS = $(PLUGIN_CHECK_LDFLAGS)
tests_unit_fixture_la_LIBADD = $(CONFUSE_LIBS)
tests_unit_fixture_badmajor_la_SOURCES = $(FIXTURE_SRC)
tests_unit_fixture_badmajor_la_CFLAGS = $(FIXTURE_CFLAGS) -DFIXTURE_BADMAJOR
tests_unit_fixture_badmajor_la_LDFLAGS = $(PLUGIN_CHECK_LDFLAGS)
tests_unit_fixture_newminor_la_SOURCES = $(FIXTURE_SRC)
tests_unit_fixture_newminor_la_CFLAGS = $(FIXTURE_CFLAGS) -DFIXTURE_NEWMINOR
tests_unit_fixture_newminor_la_LDFLAGS = $(PLUGIN_CHECK_LDFLAGS)
tests_unit_fixture_small_la_SOURCES = $(FIXTURE_SRC)
tests_unit_fixture_small_la_CFLAGS = $(FIXTURE_CFLAGS) -DFIXTURE_SMALL
tests_unit_fixture_small_la_LDFLAGS = $(PLUGIN_CHECK_LDFLAGS)
tests_unit_fixture_nosym_la_SOURCES = $(FIXTURE_SRC)
tests_unit_fixture_nosym_la_CFLAGS = $(FIXTURE_CFLAGS) -DFIXTURE_NOSYM
tests_unit_fixture_nosym_la_LDFLAGS = $(PLUGIN_CHECK_LDFLAGS)
tests_unit_fixture_dupsize_la_SOURCES = $(FIXTURE_SRC)
tests_unit_fixture_dupsize_la_CFLAGS = $(FIXTURE_CFLAGS) -DFIXTURE_DUPSIZE
tests_unit_fixture_dupsize_la_LDFLAGS = $(PLUGIN_CHECK_LDFLAGS)
tests_unit_fixture_dupbody_la_SOURCES = $(FIXTURE_SRC)
tests_unit_fixture_dupbody_la_CFLAGS = $(FIXTURE_CFLAGS) -DFIXTURE_DUPBODY
tests_unit_fixture_dupbody_la_LDFLAGS = $(PLUGIN_CHECK_LDFLAGS)
tests_unit_fixture_dupverb_la_SOURCES = $(FIXTURE_SRC)
tests_unit_fixture_dupverb_la_CFLAGS = $(FIXTURE_CFLAGS) -DFIXTURE_DUPVERB
tests_unit_fixture_dupverb_la_LDFLAGS = $(PLUGIN_CHECK_LDFLAGS)
tests_unit_fixture_coreverb_la_SOURCES = $(FIXTURE_SRC)
tests_unit_fixture_coreverb_la_CFLAGS = $(FIXTURE_CFLAGS) -DFIXTURE_COREVERB
tests_unit_fixture_coreverb_la_LDFLAGS = $(PLUGIN_CHECK_LDFLAGS)
tests_unit_fixture_badcounter_la_SOURCES = $(FIXTURE_SRC)
tests_unit_fixture_badcounter_la_CFLAGS = $(FIXTURE_CFLAGS) \
	-DFIXTURE_BADCOUNTER
tests_unit_fixture_badcounter_la_LDFLAGS = $(PLUGIN_CHECK_LDFLAGS)
tests_unit_fixture_opttype_la_SOURCES = $(FIXTURE_SRC)
tests_unit_fixture_opttype_la_CFLAGS = $(FIXTURE_CFLAGS) -DFIXTURE_OPTTYPE
tests_unit_fixture_opttype_la_LDFLAGS = $(PLUGIN_CHECK_LDFLAGS)
tests_unit_fixture_opttwice_la_SOURCES = $(FIXTURE_SRC)
tests_unit_fixture_opttwice_la_CFLAGS = $(FIXTURE_CFLAGS) -DFIXTURE_OPTTWICE
tests_unit_fixture_opttwice_la_LDFLAGS = $(PLUGIN_CHECK_LDFLAGS)

# Unit tests of the server core, linked against its convenience library.
# Core headers are included by relative path ("../../core/x.h").
CORE_TEST_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(CONFUSE_CFLAGS) \
	$(LIBEVENT_CFLAGS)
CORE_TEST_LIBS = proto/libproto.la core/libcore.la $(CHECK_LIBS) \
	$(LIBEVENT_LIBS) $(CONFUSE_LIBS)

check_PROGRAMS += tests/unit/test_config tests/unit/test_loader \
	tests/unit/test_data_reader
TESTS += tests/unit/test_config tests/unit/test_loader \
	tests/unit/test_data_reader
tests_unit_test_config_SOURCES = tests/unit/test_config.c \
	tests/unit/test_capture.h
tests_unit_test_config_CFLAGS = $(CORE_TEST_CFLAGS)
tests_unit_test_config_LDADD = $(CORE_TEST_LIBS)
tests_unit_test_loader_SOURCES = tests/unit/test_loader.c \
	tests/unit/test_capture.h
tests_unit_test_loader_CPPFLAGS = $(AM_CPPFLAGS) \
	-DTEST_FIXTURE_DIR='"$(abs_top_builddir)/tests/unit/.libs"' \
	-DTEST_PLUGIN_DIR='"$(abs_top_builddir)/plugins/.libs"'
tests_unit_test_loader_CFLAGS = $(CORE_TEST_CFLAGS)
tests_unit_test_loader_LDADD = $(CORE_TEST_LIBS)
tests_unit_test_data_reader_SOURCES = tests/unit/test_data_reader.c
tests_unit_test_data_reader_CFLAGS = $(CORE_TEST_CFLAGS)
tests_unit_test_data_reader_LDADD = $(CORE_TEST_LIBS)

# host->message_pread against message_write (core/message.c).
check_PROGRAMS += tests/unit/test_message_pread
TESTS += tests/unit/test_message_pread
tests_unit_test_message_pread_SOURCES = tests/unit/test_message_pread.c
tests_unit_test_message_pread_CFLAGS = $(CORE_TEST_CFLAGS)
tests_unit_test_message_pread_LDADD = $(CORE_TEST_LIBS)

# The bounded line reader (core/linereader.c).
check_PROGRAMS += tests/unit/test_linereader
TESTS += tests/unit/test_linereader
tests_unit_test_linereader_SOURCES = tests/unit/test_linereader.c
tests_unit_test_linereader_CFLAGS = $(CORE_TEST_CFLAGS)
tests_unit_test_linereader_LDADD = $(CORE_TEST_LIBS)

# The step table and the per-step plugin arrays (core/steps.c).
check_PROGRAMS += tests/unit/test_steps
TESTS += tests/unit/test_steps
tests_unit_test_steps_SOURCES = tests/unit/test_steps.c
tests_unit_test_steps_CFLAGS = $(CORE_TEST_CFLAGS)
tests_unit_test_steps_LDADD = $(CORE_TEST_LIBS)

# Log lines: one per message, controls neutered (core/log.c).
check_PROGRAMS += tests/unit/test_log
TESTS += tests/unit/test_log
tests_unit_test_log_SOURCES = tests/unit/test_log.c tests/unit/test_capture.h
tests_unit_test_log_CFLAGS = $(CORE_TEST_CFLAGS)
tests_unit_test_log_LDADD = $(CORE_TEST_LIBS)

# The command and parameter parsers, through a session in the test process.
check_PROGRAMS += tests/unit/test_commands
TESTS += tests/unit/test_commands
tests_unit_test_commands_SOURCES = tests/unit/test_commands.c \
	tests/unit/test_capture.h
tests_unit_test_commands_CPPFLAGS = $(AM_CPPFLAGS) \
	-DTEST_PLUGIN_DIR='"$(abs_top_builddir)/plugins/.libs"'
tests_unit_test_commands_CFLAGS = $(CORE_TEST_CFLAGS)
tests_unit_test_commands_LDADD = $(CORE_TEST_LIBS)

# configure's exit trap runs "rm -f core ... && rm -f confdefs.h": in an
# out-of-tree build "core" is our source directory, that rm fails and
# confdefs.h stays behind, which distcheck's distcleancheck refuses.
DISTCLEANFILES = confdefs.h

# core/'s include graph stays layered (tools/include-graph).
TESTS += tests/tools/test_include_graph.py
EXTRA_DIST += tests/tools/test_include_graph.py tools/include-graph
# proto/ holds the grammar: no bodies in headers, plugins export only
# their descriptor although proto/ is linked into them.
TESTS += tests/tools/test_proto_layout.py
EXTRA_DIST += tests/tools/test_proto_layout.py
# Hygiene: every C file opens with its purpose (naming its manual page
# where one exists), no two C files share a name, no bug-database numbers.
TESTS += tests/tools/test_source_headers.py
EXTRA_DIST += tests/tools/test_source_headers.py

# The Python of tests/, bench/ and tools/ passes pyflakes.
TESTS += tests/tools/test_pyflakes.py
EXTRA_DIST += tests/tools/test_pyflakes.py
# libehlod-client exports every 1.0 function (api/abi/*.syms) and only
# its own.
TESTS += tests/tools/test_client_symbols.py
EXTRA_DIST += tests/tools/test_client_symbols.py

# What CI's "make distcheck" runs from the tarball (.ci/run passes
# TESTS='$(DISTCHECK_SMOKE_TESTS)'): the unit tests, and interop tests
# that use each installed part (the server, the milter host, the client,
# the plugin header and pkg-config file, the man pages).  The whole
# suite has already run twice on the same sources in that job (the
# fresh root and the sanitizer build); the tarball's own completeness
# is checked file by file (tools/dist-complete).  A plain
# "make distcheck" still runs everything.
DISTCHECK_SMOKE_TESTS = \
	tests/unit/test_ehlo tests/unit/test_proxy \
	tests/unit/test_xforward_parse tests/unit/test_auth_parse \
	tests/unit/test_dsn_parse tests/unit/test_bdat_parse \
	tests/unit/test_utf8 tests/unit/test_dnsbl_query \
	tests/unit/test_client_reply tests/unit/test_client_ehlo \
	tests/unit/test_client_message tests/unit/test_client_abi \
	tests/unit/test_maildir_crlf tests/unit/test_esmtp \
	tests/unit/test_address tests/unit/test_enhanced_code \
	tests/unit/test_xmalloc tests/unit/test_config \
	tests/unit/test_loader tests/unit/test_data_reader \
	tests/unit/test_message_pread tests/unit/test_linereader \
	tests/unit/test_steps tests/unit/test_log tests/unit/test_commands \
	tests/tools/test_source_headers.py \
	tests/interop/test_ehlo.py tests/interop/test_swaks.py \
	tests/interop/test_delivery.py tests/interop/test_milter_packets.py \
	tests/interop/test_client_offered.py \
	tests/interop/test_example_plugin.py \
	tests/interop/test_packaging.py tests/interop/test_man_snippets.py
