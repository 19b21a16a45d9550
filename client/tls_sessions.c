/*
 * NAME
 *	tls_sessions.c - TLS sessions kept for resumption, per shared context
 * DESCRIPTION
 *	A TLS context made by ehlod_client_tls_context_new() keeps the last
 *	session each next hop gave (TLS 1.3 tickets, TLS 1.2 sessions), so
 *	that the next connection to it resumes instead of running the full
 *	handshake again: no certificate sent and checked, no key exchange by
 *	signature, which is most of a handshake's CPU.  A program relaying
 *	to the same hop many times saves that each time.
 *
 *	A session is offered again only to the same hop under the same
 *	checks: the key names whether the certificate was verified, the name
 *	checked and the address and port connected to.  A resumed session
 *	is not verified again, so one made without verification must never
 *	serve a client that verifies, nor one verified for another name.
 *
 *	At most SESSIONS_MAX hops are kept; the one used longest ago goes
 *	first.  A lock makes a context safe to share between threads.
 *	Clients that make their own context keep nothing: it ends with them.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/ssl.h>

#include "private.h"

#define SESSIONS_MAX 64

struct kept {
	char key[320];
	SSL_SESSION *session;
	unsigned long used;	/* the cache's clock when last used */
};

struct tls_sessions {
	pthread_mutex_t lock;
	unsigned long clock;
	struct kept v[SESSIONS_MAX];
};

static int ctx_index = -1, ssl_index = -1;
static pthread_once_t indexes_once = PTHREAD_ONCE_INIT;

static void
free_sessions(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
    long argl, void *argp)
{
	struct tls_sessions *t = ptr;

	(void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
	if (t == NULL)
		return;
	for (int i = 0; i < SESSIONS_MAX; i++)
		SSL_SESSION_free(t->v[i].session);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

static void
free_key(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
    void *argp)
{
	(void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
	free(ptr);
}

static void
make_indexes(void)
{
	ctx_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL,
	    free_sessions);
	ssl_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, free_key);
}

static struct tls_sessions *
sessions_of(SSL_CTX *ctx)
{
	if (ctx_index < 0)
		return NULL;
	return SSL_CTX_get_ex_data(ctx, ctx_index);
}

/* The entry for key, else NULL; with make, else the free or oldest one
 * (emptied).  Under the lock. */
static struct kept *
find(struct tls_sessions *t, const char *key, int make)
{
	struct kept *victim = NULL;

	for (int i = 0; i < SESSIONS_MAX; i++) {
		struct kept *k = &t->v[i];
		if (k->session != NULL && strcmp(k->key, key) == 0)
			return k;
		if (victim == NULL || (victim->session != NULL &&
		    (k->session == NULL || k->used < victim->used)))
			victim = k;
	}
	if (!make)
		return NULL;
	SSL_SESSION_free(victim->session);
	victim->session = NULL;
	snprintf(victim->key, sizeof(victim->key), "%s", key);
	return victim;
}

/* OpenSSL hands over each session the server gives, after the handshake
 * (TLS 1.3: with each ticket).  A copy is kept: the object stays the
 * connection's, and OpenSSL marks it not resumable when the connection
 * ends without a close_notify, as SMTP sessions commonly do after QUIT
 * (Postfix's cache likewise keeps a serialized copy). */
static int
new_session(SSL *ssl, SSL_SESSION *session)
{
	struct tls_sessions *t = sessions_of(SSL_get_SSL_CTX(ssl));
	const char *key = ssl_index >= 0 ? SSL_get_ex_data(ssl, ssl_index) :
	    NULL;
	SSL_SESSION *copy;

	if (t == NULL || key == NULL || !SSL_SESSION_is_resumable(session) ||
	    (copy = SSL_SESSION_dup(session)) == NULL)
		return 0;
	pthread_mutex_lock(&t->lock);
	struct kept *k = find(t, key, 1);
	SSL_SESSION_free(k->session);
	k->session = copy;
	k->used = ++t->clock;
	pthread_mutex_unlock(&t->lock);
	return 0;
}

int
tls_sessions_enable(SSL_CTX *ctx)
{
	struct tls_sessions *t;

	pthread_once(&indexes_once, make_indexes);
	if (ctx_index < 0 || ssl_index < 0)
		return -1;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return -1;
	pthread_mutex_init(&t->lock, NULL);
	if (SSL_CTX_set_ex_data(ctx, ctx_index, t) != 1) {
		free_sessions(NULL, t, NULL, 0, 0, NULL);
		return -1;
	}
	/* Ours alone: OpenSSL's own client cache is never looked up. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT |
	    SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(ctx, new_session);
	return 0;
}

static int
expired(const SSL_SESSION *s)
{
	return (time_t)(SSL_SESSION_get_time(s) + SSL_SESSION_get_timeout(s)) <=
	    time(NULL);
}

void
tls_sessions_offer(SSL *ssl, int verify, const char *name, const char *host,
    int port)
{
	struct tls_sessions *t = sessions_of(SSL_get_SSL_CTX(ssl));
	char key[320], *copy;

	if (t == NULL)
		return;
	snprintf(key, sizeof(key), "%s|%s|%s|%d", verify ? "verify" : "any",
	    name ? name : "", host ? host : "", port);
	if ((copy = strdup(key)) == NULL)
		return;
	if (SSL_set_ex_data(ssl, ssl_index, copy) != 1) {
		free(copy);
		return;
	}
	pthread_mutex_lock(&t->lock);
	struct kept *k = find(t, key, 0);
	if (k != NULL && expired(k->session)) {
		SSL_SESSION_free(k->session);
		k->session = NULL;
	} else if (k != NULL) {
		/* A copy again, for the same reason (TLS 1.2 resumes this
		 * very object). */
		SSL_SESSION *offered = SSL_SESSION_dup(k->session);
		if (offered != NULL) {
			SSL_set_session(ssl, offered);	/* takes a reference */
			SSL_SESSION_free(offered);
		}
		k->used = ++t->clock;
	}
	pthread_mutex_unlock(&t->lock);
}

void
tls_sessions_forget(SSL *ssl)
{
	struct tls_sessions *t = sessions_of(SSL_get_SSL_CTX(ssl));
	const char *key = ssl_index >= 0 ? SSL_get_ex_data(ssl, ssl_index) :
	    NULL;

	if (t == NULL || key == NULL)
		return;
	pthread_mutex_lock(&t->lock);
	struct kept *k = find(t, key, 0);
	if (k != NULL) {
		SSL_SESSION_free(k->session);
		k->session = NULL;
	}
	pthread_mutex_unlock(&t->lock);
}
