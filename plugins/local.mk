# plugins/local.mk - build rules for plugins/, included by the top Makefile.am.
# Each plugin is one file built as a libtool module NAME.la -> NAME.so that
# exports only its descriptor (PLUGIN_CFLAGS has -fvisibility=hidden).
# A plugin that needs the SMTP grammar links proto/libproto_plugin.la,
# built with hidden visibility too (proto/local.mk).

plugin_LTLIBRARIES += plugins/size.la
plugins_size_la_SOURCES = plugins/size.c
plugins_size_la_CFLAGS = $(PLUGIN_CFLAGS)
plugins_size_la_LDFLAGS = $(PLUGIN_LDFLAGS)
plugins_size_la_LIBADD = $(CONFUSE_LIBS)

plugin_LTLIBRARIES += plugins/pipelining.la
plugins_pipelining_la_SOURCES = plugins/pipelining.c
plugins_pipelining_la_CFLAGS = $(PLUGIN_CFLAGS)
plugins_pipelining_la_LDFLAGS = $(PLUGIN_LDFLAGS)
plugins_pipelining_la_LIBADD = $(CONFUSE_LIBS)

plugin_LTLIBRARIES += plugins/8bitmime.la
plugins_8bitmime_la_SOURCES = plugins/8bitmime.c
plugins_8bitmime_la_CFLAGS = $(PLUGIN_CFLAGS)
plugins_8bitmime_la_LDFLAGS = $(PLUGIN_LDFLAGS)
plugins_8bitmime_la_LIBADD = $(CONFUSE_LIBS)

plugin_LTLIBRARIES += plugins/enhancedstatuscodes.la
plugins_enhancedstatuscodes_la_SOURCES = plugins/enhancedstatuscodes.c
plugins_enhancedstatuscodes_la_CFLAGS = $(PLUGIN_CFLAGS)
plugins_enhancedstatuscodes_la_LDFLAGS = $(PLUGIN_LDFLAGS)
plugins_enhancedstatuscodes_la_LIBADD = $(CONFUSE_LIBS)

# proto/crlf.c holds the CRLF -> LF step (tests/unit/test_maildir_crlf).
plugin_LTLIBRARIES += plugins/maildir.la
plugins_maildir_la_SOURCES = plugins/maildir.c \
	plugins/maildir.h plugins/maildir_space.c plugins/maildir_tidy.c \
	plugins/maildir_flush.c plugins/maildir_fs.c \
	plugins/plugin_threads.c plugins/plugin_threads.h
plugins_maildir_la_CFLAGS = $(PLUGIN_CFLAGS)
plugins_maildir_la_LDFLAGS = $(PLUGIN_LDFLAGS)
plugins_maildir_la_LIBADD = proto/libproto_plugin.la $(CONFUSE_LIBS) -lpthread

plugin_LTLIBRARIES += plugins/discard.la
plugins_discard_la_SOURCES = plugins/discard.c
plugins_discard_la_CFLAGS = $(PLUGIN_CFLAGS)
plugins_discard_la_LDFLAGS = $(PLUGIN_LDFLAGS)
plugins_discard_la_LIBADD = $(CONFUSE_LIBS)

# The security and service-extension plugins, each group in its own fragment.
include $(srcdir)/plugins/security.mk
include $(srcdir)/plugins/extensions.mk
