# fuzz/local.mk - libFuzzer targets, built only by
# "./configure --enable-fuzzers CC=clang" (see fuzz/README.md).
# "make fuzz FUZZ_SECONDS=N" runs each target for N seconds, two at a time,
# on its seed corpus (fuzz/corpus/NAME, read only) and a corpus of its own
# in the build tree (fuzz-corpus/NAME), where new inputs are kept.

FUZZ_TARGETS = command address data bdat proxy reply config milter crlf dsn \
	xforward auth milter_socket client_message
FUZZ_SECONDS = 10
EXTRA_DIST += fuzz/README.md fuzz/corpus fuzz/run-target

FUZZ_BINARIES = fuzz/fuzz_command fuzz/fuzz_address fuzz/fuzz_data \
	fuzz/fuzz_bdat fuzz/fuzz_proxy fuzz/fuzz_reply fuzz/fuzz_config \
	fuzz/fuzz_milter fuzz/fuzz_crlf fuzz/fuzz_dsn fuzz/fuzz_xforward \
	fuzz/fuzz_auth fuzz/fuzz_milter_socket fuzz/fuzz_client_message
if FUZZERS
noinst_PROGRAMS += $(FUZZ_BINARIES)
FUZZ_ENABLED = yes
else
FUZZ_ENABLED = no
endif

# The targets' objects are instrumented by configure's flags; only the
# link adds libFuzzer's main.
FUZZ_LINK = -fsanitize=fuzzer
FUZZ_CORE_CFLAGS = $(AM_CFLAGS) $(CONFUSE_CFLAGS) $(LIBEVENT_CFLAGS)
FUZZ_CORE_LIBS = core/libcore.la $(CONFUSE_LIBS) $(LIBEVENT_LIBS)

fuzz_fuzz_command_SOURCES = fuzz/fuzz_command.c core/linereader.c
fuzz_fuzz_command_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS)
fuzz_fuzz_command_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINK)
fuzz_fuzz_command_LDADD = proto/libproto.la $(LIBEVENT_LIBS)

fuzz_fuzz_address_SOURCES = fuzz/fuzz_address.c
fuzz_fuzz_address_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINK)
fuzz_fuzz_address_LDADD = proto/libproto.la

fuzz_fuzz_data_SOURCES = fuzz/fuzz_data.c
fuzz_fuzz_data_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/core
fuzz_fuzz_data_CFLAGS = $(FUZZ_CORE_CFLAGS)
fuzz_fuzz_data_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINK)
fuzz_fuzz_data_LDADD = $(FUZZ_CORE_LIBS)

fuzz_fuzz_bdat_SOURCES = fuzz/fuzz_bdat.c core/linereader.c
fuzz_fuzz_bdat_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS)
fuzz_fuzz_bdat_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINK)
fuzz_fuzz_bdat_LDADD = proto/libproto.la $(LIBEVENT_LIBS)

fuzz_fuzz_proxy_SOURCES = fuzz/fuzz_proxy.c
fuzz_fuzz_proxy_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/core
fuzz_fuzz_proxy_CFLAGS = $(FUZZ_CORE_CFLAGS)
fuzz_fuzz_proxy_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINK)
fuzz_fuzz_proxy_LDADD = $(FUZZ_CORE_LIBS)

fuzz_fuzz_reply_SOURCES = fuzz/fuzz_reply.c
fuzz_fuzz_reply_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINK)
fuzz_fuzz_reply_LDADD = proto/libproto.la

fuzz_fuzz_xforward_SOURCES = fuzz/fuzz_xforward.c
fuzz_fuzz_xforward_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINK)
fuzz_fuzz_xforward_LDADD = proto/libproto.la

# The auth plugin's parsers, compiled in as the plugin compiles them.
fuzz_fuzz_auth_SOURCES = fuzz/fuzz_auth.c plugins/auth_parse.c
fuzz_fuzz_auth_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins
fuzz_fuzz_auth_CFLAGS = $(AM_CFLAGS) $(SASL_CFLAGS)
fuzz_fuzz_auth_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINK)
fuzz_fuzz_auth_LDADD = proto/libproto.la $(SASL_LIBS)

fuzz_fuzz_crlf_SOURCES = fuzz/fuzz_crlf.c
fuzz_fuzz_crlf_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINK)
fuzz_fuzz_crlf_LDADD = proto/libproto.la

# The client library's wire form of a message (every relayed message).
fuzz_fuzz_client_message_SOURCES = fuzz/fuzz_client_message.c \
	client/client_message.c
fuzz_fuzz_client_message_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/client
fuzz_fuzz_client_message_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINK)

fuzz_fuzz_dsn_SOURCES = fuzz/fuzz_dsn.c
fuzz_fuzz_dsn_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINK)
fuzz_fuzz_dsn_LDADD = proto/libproto.la

fuzz_fuzz_config_SOURCES = fuzz/fuzz_config.c
fuzz_fuzz_config_CFLAGS = $(FUZZ_CORE_CFLAGS)
fuzz_fuzz_config_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINK)
fuzz_fuzz_config_LDADD = $(FUZZ_CORE_LIBS)

# The milter's callbacks, loop thread and steps, without libmilter (the
# target stands in for it) and over the milterprobe test plugin.
fuzz_fuzz_milter_SOURCES = fuzz/fuzz_milter.c milter/callbacks.c \
	milter/loop.c milter/milter_steps.c milter/hostapi_milter.c
fuzz_fuzz_milter_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/core -I$(top_srcdir)/milter \
	-DFUZZ_PROBE_DIR='"$(abs_top_builddir)/tests/plugins/.libs"'
fuzz_fuzz_milter_CFLAGS = $(FUZZ_CORE_CFLAGS) -pthread
fuzz_fuzz_milter_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINK) -pthread
fuzz_fuzz_milter_LDADD = $(FUZZ_CORE_LIBS) $(EVTHREAD_LIBS)
EXTRA_fuzz_fuzz_milter_DEPENDENCIES = tests/plugins/milterprobe.la

# ehlod-milter's milter_socket setting, parsed as its reload parses it.
fuzz_fuzz_milter_socket_SOURCES = fuzz/fuzz_milter_socket.c \
	milter/milter_socket.c
fuzz_fuzz_milter_socket_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/core \
	-I$(top_srcdir)/milter
fuzz_fuzz_milter_socket_CFLAGS = $(FUZZ_CORE_CFLAGS)
fuzz_fuzz_milter_socket_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINK)
fuzz_fuzz_milter_socket_LDADD = $(FUZZ_CORE_LIBS)

# fuzz/run-target runs one target; FUZZ_JOBS of them run at once (one
# per core: each target still gets its FUZZ_SECONDS).
FUZZ_JOBS = 2
.PHONY: fuzz fuzz-build
fuzz-build:
	@test "$(FUZZ_ENABLED)" = yes || { echo "configure with --enable-fuzzers CC=clang first" >&2; exit 1; }
	$(MAKE) $(AM_MAKEFLAGS) $(FUZZ_BINARIES) tests/plugins/milterprobe.la

fuzz: fuzz-build
	@printf '%s\n' $(FUZZ_TARGETS) | xargs -P $(FUZZ_JOBS) -n 1 \
	    $(SHELL) $(srcdir)/fuzz/run-target $(FUZZ_SECONDS) $(srcdir)

clean-local: clean-fuzz
.PHONY: clean-fuzz
clean-fuzz:
	rm -rf fuzz-corpus
