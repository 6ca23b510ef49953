// SPDX-License-Identifier: GPL-2.0
/* The session ticket key ring: AES-256-CBC for the ticket, HMAC-SHA256 over it (what OpenSSL's
 * own ticket keys use), 16-byte random key names. Rotation is lazy: the callback that needs a
 * key first retires the keys whose periods have passed, by the wall clock, so that the ages
 * carried across an upgrade keep the same schedule. */
#include "userspace/net/tlskeys.h"

#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/rand.h>

#include "userspace/lib/clock.h"

#define KEYS_MAGIC "PINGDTK1"
#define KEYS_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

struct tls_key {
	unsigned char name[16]; /* sent in the ticket: picks the key to decrypt with */
	unsigned char aes[32];	/* AES-256-CBC key */
	unsigned char hmac[32]; /* HMAC-SHA256 key */
	int64_t born;		/* when it became the current key, Unix seconds */
};

/* What tls_keys_export() writes: this header, then n keys. */
struct keys_file {
	char magic[8];
	uint32_t n;
	uint32_t pad;
};

static struct {
	pthread_mutex_t mu;
	struct tls_key k[TLS_KEYS_N]; /* [0] encrypts; all decrypt */
	unsigned int n;
	unsigned int rotate_s;
} ring = {.mu = PTHREAD_MUTEX_INITIALIZER, .rotate_s = TLS_KEYS_ROTATE_DEF};

static int64_t now_s(void)
{
	return clock_wall_ms() / 1000;
}

/* Make key <k>, born at <t>. Returns 0 or -EIO. */
static int key_make(struct tls_key *k, int64_t t)
{
	if (RAND_bytes(k->name, sizeof(k->name)) != 1 ||
		RAND_priv_bytes(k->aes, sizeof(k->aes)) != 1 ||
		RAND_priv_bytes(k->hmac, sizeof(k->hmac)) != 1)
		return -EIO;
	k->born = t;
	return 0;
}

/* Retire the keys whose periods have passed: one new current key per period, at most a full
 * ring. Caller holds the lock. */
static void rotate_locked(int64_t t)
{
	int64_t periods;

	if (!ring.n || t < ring.k[0].born + ring.rotate_s)
		return;
	periods = (t - ring.k[0].born) / ring.rotate_s;
	for (int64_t p = 0; p < periods && p < TLS_KEYS_N; p++) {
		struct tls_key k;

		if (key_make(&k, t))
			return; /* no randomness now: keep the current key, try again next time */
		memmove(&ring.k[1], &ring.k[0], (TLS_KEYS_N - 1) * sizeof(ring.k[0]));
		ring.k[0] = k;
		if (ring.n < TLS_KEYS_N)
			ring.n++;
	}
}

int tls_keys_setup(unsigned int rotate_s)
{
	int err = 0;

	pthread_mutex_lock(&ring.mu);
	if (rotate_s)
		ring.rotate_s = rotate_s;
	if (!ring.n) {
		err = key_make(&ring.k[0], now_s());
		if (!err)
			ring.n = 1;
	}
	pthread_mutex_unlock(&ring.mu);
	return err;
}

unsigned int tls_keys_lifetime(void)
{
	unsigned int r;

	pthread_mutex_lock(&ring.mu);
	r = ring.rotate_s;
	pthread_mutex_unlock(&ring.mu);
	/* A ticket issued just before its key retires is decryptable for the other keys' turns. */
	return r * (TLS_KEYS_N - 1);
}

/* AES-256-CBC fetched once: the legacy EVP_aes_256_cbc() makes every EVP_CipherInit_ex()
 * fetch it again from the provider, by name. */
static EVP_CIPHER *aes_cbc;
static pthread_once_t aes_once = PTHREAD_ONCE_INIT;

static void aes_fetch(void)
{
	aes_cbc = EVP_CIPHER_fetch(NULL, "AES-256-CBC", NULL);
}

static const EVP_CIPHER *ticket_cipher(void)
{
	pthread_once(&aes_once, aes_fetch);
	return aes_cbc ? aes_cbc : EVP_aes_256_cbc();
}

/* A sealed ticket's IV, from a pool of random bytes per thread refilled for TICKET_IVS
 * tickets at a time: each RAND_bytes() is a DRBG request and, through OpenSSL's fork check,
 * a getpid() system call. Returns 0 or -1. */
#define TICKET_IV  16 /* AES-CBC's IV */
#define TICKET_IVS 64

static __thread struct {
	unsigned char b[TICKET_IVS * TICKET_IV];
	unsigned int used;
} ivs = {.used = TICKET_IVS * TICKET_IV};

static int ticket_iv(unsigned char *iv)
{
	if (ivs.used == sizeof(ivs.b)) {
		if (RAND_bytes(ivs.b, sizeof(ivs.b)) != 1)
			return -1;
		ivs.used = 0;
	}
	memcpy(iv, ivs.b + ivs.used, TICKET_IV);
	ivs.used += TICKET_IV;
	return 0;
}

/* Set up <cctx> and <hctx> with key <k> and <iv>, for encryption when <enc>. */
static int key_use(const struct tls_key *k, unsigned char *iv, EVP_CIPHER_CTX *cctx,
	EVP_MAC_CTX *hctx, int enc)
{
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_octet_string(
			OSSL_MAC_PARAM_KEY, (void *)k->hmac, sizeof(k->hmac)),
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};

	if (EVP_CipherInit_ex(cctx, ticket_cipher(), NULL, k->aes, iv, enc) != 1 ||
		EVP_MAC_CTX_set_params(hctx, params) != 1)
		return -1;
	return 0;
}

int tls_keys_ticket_cb(SSL *ssl, unsigned char key_name[16], unsigned char *iv,
	EVP_CIPHER_CTX *cctx, EVP_MAC_CTX *hctx, int enc)
{
	struct tls_key k;
	bool found = false, current = false;

	(void)ssl;
	pthread_mutex_lock(&ring.mu);
	rotate_locked(now_s());
	if (enc) {
		found = ring.n > 0;
		k = ring.k[0];
	} else {
		for (unsigned int i = 0; i < ring.n && !found; i++) {
			if (memcmp(ring.k[i].name, key_name, sizeof(k.name)))
				continue;
			k = ring.k[i];
			found = true;
			current = i == 0;
		}
	}
	pthread_mutex_unlock(&ring.mu);
	if (!found)
		return enc ? -1 : 0; /* decrypting: an unknown key means a full handshake */
	if (enc) {
		if (ticket_iv(iv))
			return -1;
		memcpy(key_name, k.name, sizeof(k.name));
	}
	if (key_use(&k, iv, cctx, hctx, enc))
		return -1;
	OPENSSL_cleanse(&k, sizeof(k));
	/* A ticket under an older key is good, and is renewed under the current one. */
	return enc || current ? 1 : 2;
}

int tls_keys_export(void)
{
	struct keys_file h = {.magic = KEYS_MAGIC};
	struct tls_key k[TLS_KEYS_N];
	size_t len;
	int fd, err = 0;

	fd = memfd_create("pingd-tls-keys", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	pthread_mutex_lock(&ring.mu);
	rotate_locked(now_s());
	h.n = ring.n;
	memcpy(k, ring.k, sizeof(k));
	pthread_mutex_unlock(&ring.mu);
	len = h.n * sizeof(k[0]);
	if (write(fd, &h, sizeof(h)) != (ssize_t)sizeof(h) || write(fd, k, len) != (ssize_t)len ||
		fcntl(fd, F_ADD_SEALS, KEYS_SEALS) < 0)
		err = errno ? -errno : -EIO;
	OPENSSL_cleanse(k, sizeof(k));
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

int tls_keys_is_export(int fd)
{
	struct stat st;
	char magic[8];

	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return 0;
	return fcntl(fd, F_GET_SEALS) == KEYS_SEALS &&
	       pread(fd, magic, sizeof(magic), 0) == (ssize_t)sizeof(magic) &&
	       !memcmp(magic, KEYS_MAGIC, sizeof(magic));
}

int tls_keys_import(int fd)
{
	struct keys_file h;
	struct tls_key k[TLS_KEYS_N];
	struct stat st;

	if (!tls_keys_is_export(fd) || fstat(fd, &st) < 0)
		return -EINVAL;
	if (pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) || !h.n || h.n > TLS_KEYS_N ||
		(size_t)st.st_size != sizeof(h) + h.n * sizeof(k[0]) ||
		pread(fd, k, h.n * sizeof(k[0]), sizeof(h)) != (ssize_t)(h.n * sizeof(k[0])))
		return -EINVAL;
	for (uint32_t i = 1; i < h.n; i++)
		if (k[i].born > k[i - 1].born)
			return -EINVAL; /* newest first, as the ring keeps them */
	pthread_mutex_lock(&ring.mu);
	memcpy(ring.k, k, h.n * sizeof(k[0]));
	ring.n = h.n;
	pthread_mutex_unlock(&ring.mu);
	OPENSSL_cleanse(k, sizeof(k));
	return (int)h.n;
}

struct tls_keyfiles {
	size_t n;
	struct tls_key k[]; /* [0] seals; all open */
};

struct tls_keyfiles *tls_keyfiles_load(
	const char *const *paths, size_t n, char *err, size_t errlen)
{
	struct tls_keyfiles *ks;
	int e = EINVAL;

	if (!n) {
		snprintf(err, errlen, "no ticket key file");
		errno = EINVAL;
		return NULL;
	}
	ks = calloc(1, sizeof(*ks) + n * sizeof(ks->k[0]));
	if (!ks) {
		snprintf(err, errlen, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char buf[TLS_KEYFILE_SIZE + 1];
		struct tls_key *k = &ks->k[i];
		int fd = open(paths[i], O_RDONLY | O_CLOEXEC);
		ssize_t got = 0, r = 1;

		if (fd < 0) {
			e = errno;
			snprintf(err, errlen, "%s: %s", paths[i], strerror(e));
			goto err;
		}
		/* One byte more than a key: a longer file is another format, not a key and more. */
		while (got < (ssize_t)sizeof(buf) && (r = read(fd, buf + got, sizeof(buf) - got)) > 0)
			got += r;
		e = r < 0 ? errno : EINVAL;
		close(fd);
		if (r < 0)
			snprintf(err, errlen, "%s: %s", paths[i], strerror(e));
		else if (got != TLS_KEYFILE_SIZE)
			snprintf(err, errlen,
				"%s: holds %s%zd bytes; a ticket key file holds %d (nginx's format: "
				"a 16-byte name, a 32-byte HMAC key, a 32-byte AES key)",
				paths[i], got > TLS_KEYFILE_SIZE ? "more than " : "",
				got > TLS_KEYFILE_SIZE ? (ssize_t)TLS_KEYFILE_SIZE : got,
				TLS_KEYFILE_SIZE);
		if (r < 0 || got != TLS_KEYFILE_SIZE) {
			OPENSSL_cleanse(buf, sizeof(buf));
			goto err;
		}
		/* nginx's layout: the name, the HMAC key, then the AES key. */
		memcpy(k->name, buf, sizeof(k->name));
		memcpy(k->hmac, buf + 16, sizeof(k->hmac));
		memcpy(k->aes, buf + 48, sizeof(k->aes));
		OPENSSL_cleanse(buf, sizeof(buf));
		ks->n++;
		for (size_t j = 0; j < i; j++) {
			if (memcmp(ks->k[j].name, k->name, sizeof(k->name)))
				continue;
			snprintf(err, errlen, "%s: the same key name as %s", paths[i], paths[j]);
			e = EINVAL;
			goto err;
		}
	}
	return ks;
err:
	tls_keyfiles_free(ks);
	errno = e;
	return NULL;
}

void tls_keyfiles_free(struct tls_keyfiles *ks)
{
	if (!ks)
		return;
	OPENSSL_cleanse(ks->k, ks->n * sizeof(ks->k[0]));
	free(ks);
}

int tls_keyfiles_ticket_cb(SSL *ssl, unsigned char key_name[16], unsigned char *iv,
	EVP_CIPHER_CTX *cctx, EVP_MAC_CTX *hctx, int enc)
{
	const struct tls_keyfiles *ks = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
	size_t i = 0;

	if (!ks || !ks->n)
		return enc ? -1 : 0;
	if (enc) {
		if (ticket_iv(iv))
			return -1;
		memcpy(key_name, ks->k[0].name, sizeof(ks->k[0].name));
	} else {
		while (i < ks->n && memcmp(ks->k[i].name, key_name, sizeof(ks->k[i].name)))
			i++;
		if (i == ks->n)
			return 0; /* not one of ours: a full handshake */
	}
	if (key_use(&ks->k[i], iv, cctx, hctx, enc))
		return -1;
	/* A ticket under another than the first key is good, and is renewed under the first. */
	return enc || !i ? 1 : 2;
}
