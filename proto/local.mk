# proto/local.mk - the SMTP grammar shared by server, client, milter host
# and plugins: plain C, libc only.  Built twice from the same sources:
# libproto.la for the programs and the unit tests, libproto_plugin.la
# with hidden visibility for the plugins, which link it whole (libtool
# does so for a convenience library) and still export only their
# descriptor.
PROTO_SOURCES = \
	proto/esmtp.c proto/esmtp.h \
	proto/enhanced_code.c proto/enhanced_code.h \
	proto/address.c proto/address.h \
	proto/utf8.c proto/utf8.h \
	proto/reply_parser.c proto/reply_parser.h \
	proto/ehlo_table.c proto/ehlo_table.h \
	proto/bdat_parse.c proto/bdat_parse.h \
	proto/dsn_parse.c proto/dsn_parse.h \
	proto/xforward_parse.c proto/xforward_parse.h \
	proto/dnsbl_query.c proto/dnsbl_query.h \
	proto/crlf.c proto/crlf.h \
	proto/xmalloc.c proto/xmalloc.h \
	proto/user_access.c proto/user_access.h

noinst_LTLIBRARIES += proto/libproto.la proto/libproto_plugin.la
proto_libproto_la_SOURCES = $(PROTO_SOURCES)
proto_libproto_plugin_la_SOURCES = $(PROTO_SOURCES)
proto_libproto_plugin_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden
