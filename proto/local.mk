# proto/local.mk - the grammar shared by server, client and milter host,
# built as a convenience library every program links.
noinst_LTLIBRARIES += proto/libproto.la
proto_libproto_la_SOURCES = \
	proto/esmtp.c proto/esmtp.h \
	proto/address.c proto/address.h \
	proto/linereader.c proto/linereader.h \
	proto/utf8.h
proto_libproto_la_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS)
