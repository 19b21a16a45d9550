/*
 * NAME
 *	test_steps - unit tests of the step table and per-step plugin arrays
 * DESCRIPTION
 *	core/steps.c: a chain_table holds, for each step, exactly the
 *	plugins that define its hook, in config order, filtered by the
 *	optional predicate; ehlod -t's hook list keeps its order; the default
 *	replies are the ones the commands gave before the table.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/loader.h"
#include "../../core/steps.h"

static ehlod_verdict
v_ctx(ehlod_ctx *c)
{
	(void)c;
	return EHLOD_CONTINUE;
}

static ehlod_verdict
v_text(ehlod_ctx *c, const char *t)
{
	(void)c;
	(void)t;
	return EHLOD_CONTINUE;
}

static void
v_void(ehlod_ctx *c)
{
	(void)c;
}

static struct plugin v[3];
static struct plugin_set set = { .v = v, .n = 3 };

static void
setup(void)
{
	memset(v, 0, sizeof(v));
	for (size_t i = 0; i < 3; i++)
		v[i].index = i;
	v[0].d.on_mail = v_text;
	v[0].d.on_eom = v_ctx;
	v[1].d.on_mail = v_text;
	v[1].d.on_rset = v_void;
	v[2].d.on_connect = v_ctx;
	v[2].d.on_mail = v_text;
}

static int
not_second(const struct plugin *p, void *arg)
{
	(void)arg;
	return p->index != 1;
}

START_TEST(arrays_hold_hooks_in_config_order)
{
	struct chain_table t;

	ck_assert_int_eq(chain_table_build(&t, &set, NULL, NULL), 0);
	ck_assert_uint_eq(t.n[STEP_MAIL], 3);
	ck_assert_ptr_eq(t.by_step[STEP_MAIL][0], &v[0]);
	ck_assert_ptr_eq(t.by_step[STEP_MAIL][1], &v[1]);
	ck_assert_ptr_eq(t.by_step[STEP_MAIL][2], &v[2]);
	ck_assert_uint_eq(t.n[STEP_CONNECT], 1);
	ck_assert_ptr_eq(t.by_step[STEP_CONNECT][0], &v[2]);
	ck_assert_uint_eq(t.n[STEP_EOM], 1);
	ck_assert_uint_eq(t.n[STEP_RSET], 1);
	ck_assert_uint_eq(t.n[STEP_HELO], 0);
	ck_assert_uint_eq(t.n[STEP_BODY], 0);
	ck_assert_uint_eq(t.n[STEP_VERB], 0);
	chain_table_free(&t);
}
END_TEST

START_TEST(predicate_leaves_plugins_out)
{
	struct chain_table t;

	ck_assert_int_eq(chain_table_build(&t, &set, not_second, NULL), 0);
	ck_assert_uint_eq(t.n[STEP_MAIL], 2);
	ck_assert_ptr_eq(t.by_step[STEP_MAIL][0], &v[0]);
	ck_assert_ptr_eq(t.by_step[STEP_MAIL][1], &v[2]);
	ck_assert_uint_eq(t.n[STEP_RSET], 0);
	chain_table_free(&t);
}
END_TEST

START_TEST(hook_names_keep_their_order)
{
	struct plugin p;
	char buf[256];

	memset(&p, 0, sizeof(p));
	plugins_hook_names(&p, buf, sizeof(buf));
	ck_assert_str_eq(buf, "(none)");
	for (int st = 0; st < STEP_VERB; st++) {
		void (*fn)(void) = (void (*)(void))v_void;
		memcpy((char *)&p.d + step_table[st].slot, &fn, sizeof(fn));
	}
	plugins_hook_names(&p, buf, sizeof(buf));
	ck_assert_str_eq(buf, "connect helo mail rcpt data header eoh body "
	    "eom rset close unknown report");
}
END_TEST

START_TEST(default_replies)
{
	const struct step_reply *r;

	r = step_default_reply(STEP_RCPT, EHLOD_TEMPFAIL);
	ck_assert_int_eq(r->code, 450);
	ck_assert_str_eq(r->enhanced, "4.7.1");
	ck_assert_str_eq(r->text, "Recipient temporarily rejected");
	r = step_default_reply(STEP_HELO, EHLOD_REJECT);
	ck_assert_int_eq(r->code, 550);
	ck_assert_str_eq(r->text, "Access denied");
	/* An unknown command a plugin "accepts" is still unrecognized. */
	r = step_default_reply(STEP_UNKNOWN, EHLOD_ACCEPT);
	ck_assert_int_eq(r->code, 500);
	r = step_default_reply(STEP_CONNECT, EHLOD_TEMPFAIL);
	ck_assert_int_eq(r->code, 421);
	ck_assert_ptr_null(r->enhanced);
	ck_assert_str_eq(step_table[STEP_VERB].label, "VERB");
	ck_assert_str_eq(step_table[STEP_EOH].name, "eoh");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("steps");
	TCase *tc = tcase_create("steps");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, arrays_hold_hooks_in_config_order);
	tcase_add_test(tc, predicate_leaves_plugins_out);
	tcase_add_test(tc, hook_names_keep_their_order);
	tcase_add_test(tc, default_replies);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
