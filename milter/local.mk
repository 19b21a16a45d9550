# milter/local.mk - build rules for milter/, included by the top Makefile.am.
# ehlod-milter links the server's convenience library (everything of ehlod
# but core/main.c): the same config reader, loader, session model and host table.

sbin_PROGRAMS += milter/ehlod-milter
milter_ehlod_milter_SOURCES = \
	milter/milter.h \
	milter/milter_main.c \
	milter/milter_master.c \
	milter/milter_socket.c \
	milter/callbacks.c \
	milter/loop.c \
	milter/milter_steps.c \
	milter/hostapi_milter.c \
	milter/describe.c
milter_ehlod_milter_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/core
milter_ehlod_milter_CFLAGS = $(AM_CFLAGS) $(CONFUSE_CFLAGS) $(LIBEVENT_CFLAGS) \
	-pthread
milter_ehlod_milter_LDADD = core/libcore.la $(MILTER_LIBS) $(LIBEVENT_LIBS) \
	$(EVTHREAD_LIBS) \
	$(CONFUSE_LIBS)

dist_man_MANS += docs/ehlod-milter.8

# The test plugin the milter tests drive (built by "make check" only).
check_LTLIBRARIES += tests/plugins/milterprobe.la
tests_plugins_milterprobe_la_SOURCES = tests/plugins/milterprobe.c
tests_plugins_milterprobe_la_CFLAGS = $(PLUGIN_CFLAGS)
tests_plugins_milterprobe_la_LDFLAGS = $(PLUGIN_CHECK_LDFLAGS)
tests_plugins_milterprobe_la_LIBADD = $(CONFUSE_LIBS)

MILTER_TESTS = \
	tests/interop/test_milter_miltertest.py \
	tests/interop/test_milter_postfix.py \
	tests/interop/test_milter_postfix_unix.py \
	tests/interop/test_milter_sendmail.py \
	tests/interop/test_milter_check.py \
	tests/interop/test_milter_serial.py \
	tests/interop/test_milter_hup.py \
	tests/interop/test_milter_service.py \
	tests/interop/test_milter_postfix_reload.py
TESTS += $(MILTER_TESTS)
EXTRA_DIST += $(MILTER_TESTS) tests/interop/milterharness.py \
	tests/interop/milter_steps.lua tests/interop/milter_negotiate.lua \
	tests/interop/milter_pending.lua tests/interop/milter_connect.lua
