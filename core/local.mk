# core/local.mk - the server, ehlod.  Everything but main.c is also a
# convenience library, so unit tests can link the real code.
noinst_LTLIBRARIES += core/libcore.la
core_libcore_la_SOURCES = \
	core/log.c core/log.h \
	core/linereader.c core/linereader.h \
	core/config.c core/config.h \
	core/config_scan.c core/config_scan.h \
	core/loader.c core/loader.h \
	core/trust.c core/trust.h \
	core/include.c core/include.h \
	core/confcheck.c core/confcheck.h \
	core/message.c core/message.h \
	core/spool_writer.c core/spool_writer.h \
	core/spool_ahead.c core/spool_ahead.h \
	core/data.c core/data.h \
	core/session_reply.c core/session_reply.h \
	core/chain.c core/chain.h \
	core/pending.c core/pending.h \
	core/smtp_state.c core/smtp_state.h \
	core/txn.c core/txn.h \
	core/steps.c core/steps.h \
	core/ehlo.c core/ehlo.h \
	core/commands.c core/commands.h \
	core/content.c core/content.h \
	core/hostapi.c core/hostapi.h \
	core/plugin_events.c core/plugin_events.h \
	core/helpers.c core/helpers.h \
	core/optiontab.c \
	core/report.c core/report.h \
	core/smtpd.h \
	core/session.c core/session.h \
	core/deadline.c core/deadline.h \
	core/netaddr.c core/netaddr.h \
	core/listener.c core/listener.h \
	core/proxy.c core/proxy.h \
	core/worker.c core/worker.h \
	core/master.c core/master.h \
	core/sockets.c core/sockets.h \
	core/notify.c core/notify.h \
	core/anvil.c core/anvil.h \
	core/stats.c core/stats.h \
	core/status.c core/status.h \
	core/xforward.c core/xforward.h
core_libcore_la_CFLAGS = $(AM_CFLAGS) $(CONFUSE_CFLAGS) $(LIBEVENT_CFLAGS) \
	$(OPENSSL_CFLAGS) $(SYSTEMD_CFLAGS)
core_libcore_la_LIBADD = proto/libproto.la $(CONFUSE_LIBS) $(LIBEVENT_LIBS) \
	$(OPENSSL_LIBS) $(SYSTEMD_LIBS) -lpthread

sbin_PROGRAMS += core/ehlod
core_ehlod_SOURCES = core/main.c
core_ehlod_CFLAGS = $(AM_CFLAGS) $(CONFUSE_CFLAGS) $(LIBEVENT_CFLAGS)
core_ehlod_LDADD = core/libcore.la

# The EHLO reply builder's unit test (the shared test flags are defined in
# tests/local.mk).
check_PROGRAMS += tests/unit/test_ehlo
TESTS += tests/unit/test_ehlo
tests_unit_test_ehlo_SOURCES = tests/unit/test_ehlo.c tests/unit/test_capture.h
tests_unit_test_ehlo_CPPFLAGS = $(AM_CPPFLAGS) \
	-DTEST_FIXTURE_DIR='"$(abs_top_builddir)/tests/unit/.libs"' \
	-DTEST_PLUGIN_DIR='"$(abs_top_builddir)/plugins/.libs"'
tests_unit_test_ehlo_CFLAGS = $(CORE_TEST_CFLAGS)
tests_unit_test_ehlo_LDADD = $(CORE_TEST_LIBS)

# The PROXY protocol: the header parsers, then a real HAProxy in front.
check_PROGRAMS += tests/unit/test_proxy
TESTS += tests/unit/test_proxy
tests_unit_test_proxy_SOURCES = tests/unit/test_proxy.c
tests_unit_test_proxy_CFLAGS = $(CORE_TEST_CFLAGS)
tests_unit_test_proxy_LDADD = $(CORE_TEST_LIBS)
TESTS += tests/interop/test_proxy.py
EXTRA_DIST += tests/interop/test_proxy.py

# Reload (SIGHUP) is the master's job; its interop test lives with it.
TESTS += tests/interop/test_reload.py
EXTRA_DIST += tests/interop/test_reload.py
TESTS += tests/interop/test_pending_timeout.py
EXTRA_DIST += tests/interop/test_pending_timeout.py
TESTS += tests/interop/test_check_user.py
EXTRA_DIST += tests/interop/test_check_user.py

# XFORWARD's attribute grammar (proto/xforward_parse.c), which
# core/xforward.c runs.
check_PROGRAMS += tests/unit/test_xforward_parse
TESTS += tests/unit/test_xforward_parse
tests_unit_test_xforward_parse_SOURCES = tests/unit/test_xforward_parse.c
tests_unit_test_xforward_parse_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_xforward_parse_LDADD = proto/libproto.la $(CHECK_LIBS)
