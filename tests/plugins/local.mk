# tests/plugins/local.mk - plugins that exist only for tests, and the unit
# test of the maildir plugin's CRLF step (proto/crlf.c).  Included from tests/local.mk.
# check_LTLIBRARIES: built by "make check", never installed.

check_LTLIBRARIES += tests/plugins/delay.la
tests_plugins_delay_la_SOURCES = tests/plugins/delay.c
tests_plugins_delay_la_CFLAGS = $(PLUGIN_CFLAGS)
tests_plugins_delay_la_LDFLAGS = $(PLUGIN_CHECK_LDFLAGS)
tests_plugins_delay_la_LIBADD = $(CONFUSE_LIBS)

check_PROGRAMS += tests/unit/test_maildir_crlf
TESTS += tests/unit/test_maildir_crlf
tests_unit_test_maildir_crlf_SOURCES = tests/unit/test_maildir_crlf.c
tests_unit_test_maildir_crlf_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_maildir_crlf_LDADD = proto/libproto.la $(CHECK_LIBS)

check_LTLIBRARIES += tests/plugins/replier.la
tests_plugins_replier_la_SOURCES = tests/plugins/replier.c
tests_plugins_replier_la_CFLAGS = $(PLUGIN_CFLAGS)
tests_plugins_replier_la_LDFLAGS = $(PLUGIN_CHECK_LDFLAGS)

check_LTLIBRARIES += tests/plugins/ticker.la
tests_plugins_ticker_la_SOURCES = tests/plugins/ticker.c
tests_plugins_ticker_la_CFLAGS = $(PLUGIN_CFLAGS)
tests_plugins_ticker_la_LDFLAGS = $(PLUGIN_CHECK_LDFLAGS)

# Four copies of the do-nothing plugin for bench/milter (a section is
# named after its plugin, so each copy has a name of its own).
check_LTLIBRARIES += tests/plugins/noop1.la tests/plugins/noop2.la \
	tests/plugins/noop3.la tests/plugins/noop4.la
tests_plugins_noop1_la_SOURCES = tests/plugins/noop.c
tests_plugins_noop1_la_CFLAGS = $(PLUGIN_CFLAGS) -DNOOP_NAME='"noop1"'
tests_plugins_noop1_la_LDFLAGS = $(PLUGIN_CHECK_LDFLAGS)
tests_plugins_noop2_la_SOURCES = tests/plugins/noop.c
tests_plugins_noop2_la_CFLAGS = $(PLUGIN_CFLAGS) -DNOOP_NAME='"noop2"'
tests_plugins_noop2_la_LDFLAGS = $(PLUGIN_CHECK_LDFLAGS)
tests_plugins_noop3_la_SOURCES = tests/plugins/noop.c
tests_plugins_noop3_la_CFLAGS = $(PLUGIN_CFLAGS) -DNOOP_NAME='"noop3"'
tests_plugins_noop3_la_LDFLAGS = $(PLUGIN_CHECK_LDFLAGS)
tests_plugins_noop4_la_SOURCES = tests/plugins/noop.c
tests_plugins_noop4_la_CFLAGS = $(PLUGIN_CFLAGS) -DNOOP_NAME='"noop4"'
tests_plugins_noop4_la_LDFLAGS = $(PLUGIN_CHECK_LDFLAGS)

# bench/throughput's floor for durable delivery (it also builds its own).
check_LTLIBRARIES += tests/plugins/flushlog.la
tests_plugins_flushlog_la_SOURCES = tests/plugins/flushlog.c \
	plugins/plugin_threads.c plugins/plugin_threads.h
tests_plugins_flushlog_la_CFLAGS = $(PLUGIN_CFLAGS) -I$(srcdir)/plugins
tests_plugins_flushlog_la_LDFLAGS = $(PLUGIN_CHECK_LDFLAGS)
tests_plugins_flushlog_la_LIBADD = -lpthread

check_LTLIBRARIES += tests/plugins/serial.la
tests_plugins_serial_la_SOURCES = tests/plugins/serial.c
tests_plugins_serial_la_CFLAGS = $(PLUGIN_CFLAGS)
tests_plugins_serial_la_LDFLAGS = $(PLUGIN_CHECK_LDFLAGS)

# LD_PRELOAD shim holding directory fsyncs (tests/interop/test_maildir_flush.py).
check_LTLIBRARIES += tests/plugins/slowfsync.la
tests_plugins_slowfsync_la_SOURCES = tests/plugins/slowfsync.c
tests_plugins_slowfsync_la_CFLAGS = $(AM_CFLAGS)
tests_plugins_slowfsync_la_LDFLAGS = $(PLUGIN_CHECK_LDFLAGS)
tests_plugins_slowfsync_la_LIBADD = -ldl

# A plugin built against the frozen ABI 1.0 header (plugin_abi10.h):
# later 1.x hosts must load and run it (test_abi_old_plugin.py).
check_LTLIBRARIES += tests/plugins/abi10.la
tests_plugins_abi10_la_SOURCES = tests/plugins/abi10.c \
	tests/plugins/plugin_abi10.h
tests_plugins_abi10_la_CFLAGS = $(PLUGIN_CFLAGS)
tests_plugins_abi10_la_LDFLAGS = $(PLUGIN_CHECK_LDFLAGS)
