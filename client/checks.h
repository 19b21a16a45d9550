/*
 * NAME
 *	checks.h - what the client puts on a command line, judged first
 * DESCRIPTION
 *	Every caller-supplied string the client writes into a command (the
 *	HELO name, the reverse and forward paths, DSN parameter values) is
 *	judged with the grammar the server uses (proto/address.h,
 *	proto/esmtp.h) before anything is sent.  A string that fails cannot
 *	reach the wire, so a CR, an LF, a '>' or a space in it can never
 *	end the command early or add a parameter or a command of its own.
 *	Each function returns NULL when the string is fine, else a static
 *	explanation for the caller's error message.
 */
#ifndef EHLOD_CLIENT_CHECKS_H
#define EHLOD_CLIENT_CHECKS_H

const char *client_check_helo(const char *name);

/* rcpt 0: a reverse-path ("" allowed); 1: a forward-path ("Postmaster"
 * allowed).  UTF-8 is allowed: whether SMTPUTF8 is offered is decided
 * elsewhere. */
const char *client_check_path(const char *path, int rcpt);

/* An esmtp-value (RET=, NOTIFY=, ORCPT=); NULL (not sent) is fine. */
const char *client_check_value(const char *value);

#endif
