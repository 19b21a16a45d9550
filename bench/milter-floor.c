/*
 * NAME
 *	milter-floor - a libmilter milter in C that does nothing
 * DESCRIPTION
 *	bench/milter compiles and runs it as the floor of what any
 *	libmilter-based milter costs per message: the same steps as the
 *	ehlod-milter target (all but UNKNOWN), each answered CONTINUE at
 *	once, nothing allocated, nothing logged.  The difference between
 *	ehlod-milter and this is what ehlod-milter itself adds.
 * SYNOPSIS
 *	milter-floor inet:PORT@127.0.0.1
 */
#include <stdio.h>
#include <libmilter/mfapi.h>

static sfsistat
f_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	(void)ctx;
	(void)f2;
	(void)f3;
	*pf0 = f0 & (SMFIF_ADDHDRS | SMFIF_CHGHDRS);
	*pf1 = f1 & SMFIP_NOUNKNOWN;
	*pf2 = 0;
	*pf3 = 0;
	return SMFIS_CONTINUE;
}

static sfsistat
f_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *addr)
{
	(void)ctx;
	(void)host;
	(void)addr;
	return SMFIS_CONTINUE;
}

static sfsistat
f_text(SMFICTX *ctx, char *text)
{
	(void)ctx;
	(void)text;
	return SMFIS_CONTINUE;
}

static sfsistat
f_argv(SMFICTX *ctx, char **argv)
{
	(void)ctx;
	(void)argv;
	return SMFIS_CONTINUE;
}

static sfsistat
f_header(SMFICTX *ctx, char *name, char *value)
{
	(void)ctx;
	(void)name;
	(void)value;
	return SMFIS_CONTINUE;
}

static sfsistat
f_step(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_CONTINUE;
}

static sfsistat
f_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	(void)ctx;
	(void)chunk;
	(void)len;
	return SMFIS_CONTINUE;
}

static struct smfiDesc desc = {
	.xxfi_name = "floor",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS,
	.xxfi_connect = f_connect,
	.xxfi_helo = f_text,
	.xxfi_envfrom = f_argv,
	.xxfi_envrcpt = f_argv,
	.xxfi_header = f_header,
	.xxfi_eoh = f_step,
	.xxfi_body = f_body,
	.xxfi_eom = f_step,
	.xxfi_abort = f_step,
	.xxfi_close = f_step,
	.xxfi_data = f_step,
	.xxfi_negotiate = f_negotiate,
};

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: milter-floor inet:PORT@127.0.0.1\n");
		return 2;
	}
	if (smfi_setconn(argv[1]) != MI_SUCCESS ||
	    smfi_register(desc) != MI_SUCCESS ||
	    smfi_opensocket(1) != MI_SUCCESS)
		return 1;
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}
