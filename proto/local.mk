# proto/local.mk - the grammar shared by server, client and milter host,
# built as a convenience library every program links.
noinst_LTLIBRARIES += proto/libproto.la
proto_libproto_la_SOURCES = \
	proto/esmtp.c proto/esmtp.h \
	proto/address.c proto/address.h \
	proto/utf8.h
