/*
 * NAME
 *	client_probe.c - every type and function of <ehlod/client.h>, for
 *	abidiff
 * DESCRIPTION
 *	Built with debug information by .ci/abi into a small shared object
 *	whose one function takes every public structure and enum of the
 *	client library and a table with a pointer to each public function,
 *	so that abidw records their layout and their signatures (struct
 *	ehlod_client stays opaque, as callers see it).
 *	api/abi/ehlod-client-1.0.abi is that record for 1.0; abidiff
 *	against it fails on an incompatible change.  A function added
 *	later is appended to the table; tests/tools/test_client_symbols.py
 *	checks that the library exports every 1.0 function.
 */
#include <ehlod/client.h>

struct ehlod_client_api_1_0 {
	__typeof__(ehlod_client_opts_init_sized) *opts_init_sized;
	__typeof__(ehlod_client_new) *new_client;
	__typeof__(ehlod_client_free) *free_client;
	__typeof__(ehlod_client_start) *start;
	__typeof__(ehlod_client_run) *run;
	__typeof__(ehlod_client_result) *result;
	__typeof__(ehlod_client_transcript) *transcript;
	__typeof__(ehlod_client_greeting) *greeting;
	__typeof__(ehlod_client_ext_count) *ext_count;
	__typeof__(ehlod_client_ext_keyword) *ext_keyword;
	__typeof__(ehlod_client_ext_params) *ext_params;
	__typeof__(ehlod_client_status_name) *status_name;
	__typeof__(ehlod_client_open) *open;
	__typeof__(ehlod_client_mail) *mail;
	__typeof__(ehlod_client_rcpt) *rcpt;
	__typeof__(ehlod_client_data) *data;
	__typeof__(ehlod_client_data_begin) *data_begin;
	__typeof__(ehlod_client_data_add) *data_add;
	__typeof__(ehlod_client_data_end) *data_end;
	__typeof__(ehlod_client_data_cancel) *data_cancel;
	__typeof__(ehlod_client_data_stream) *data_stream;
	__typeof__(ehlod_client_data_stream_ready) *data_stream_ready;
	__typeof__(ehlod_client_rset) *rset;
	__typeof__(ehlod_client_xforward) *xforward;
	__typeof__(ehlod_client_ready) *ready;
	__typeof__(ehlod_client_close) *close;
	/* Since 1.2 */
	__typeof__(ehlod_client_tls_context_new) *tls_context_new;
	__typeof__(ehlod_client_tls_context_free) *tls_context_free;
};

__attribute__((visibility("default"))) void
ehlod_client_abi_probe(const struct ehlod_client_api_1_0 *api,
    const struct ehlod_client_opts *o, const struct ehlod_client_job *j,
    const struct ehlod_client_mail *m, const struct ehlod_client_xforward *x,
    const struct ehlod_client_result *res, const struct ehlod_client_rcpt *rc,
    const struct ehlod_client_reply *rep, ehlod_client_cb cb,
    ehlod_client_step_cb step_cb, ehlod_client_read_cb read_cb,
    enum ehlod_client_tls tls, enum ehlod_client_body body,
    enum ehlod_client_status status, enum ehlod_client_reason reason)
{
	(void)api; (void)o; (void)j; (void)m; (void)x; (void)res; (void)rc;
	(void)rep; (void)cb; (void)step_cb; (void)read_cb; (void)tls;
	(void)body; (void)status; (void)reason;
}
