// SPDX-License-Identifier: GPL-2.0
/* The session ticket key ring: the ticket callback encrypting and decrypting, rotation by
 * the keys' ages (rings made with old keys, so nothing waits for the clock), the export a
 * successor imports, and files that are not a ring; ticket key files (nginx's format): which
 * key seals and which open, and files of the wrong size. */
#include <sys/mman.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>

#include "tests/unit/unit.h"
#include "userspace/lib/clock.h"
#include "userspace/net/tlskeys.h"

/* The export's layout, as tlskeys.c writes it. */
struct t_key {
	unsigned char name[16], aes[32], hmac[32];
	int64_t born;
};
struct t_file {
	char magic[8];
	uint32_t n, pad;
	struct t_key k[TLS_KEYS_N];
};

/* A sealed memory file holding <n> keys of <f> (or <len> bytes of it when non-zero). */
static int ring_file(struct t_file *f, uint32_t n, size_t len)
{
	int fd = memfd_create("t", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	memcpy(f->magic, "PINGDTK1", 8);
	f->n = n;
	if (!len)
		len = 16 + n * sizeof(f->k[0]);
	CU_ASSERT_FATAL(fd >= 0 && write(fd, f, len) == (ssize_t)len);
	CU_ASSERT_FATAL(fcntl(fd, F_ADD_SEALS,
				F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) == 0);
	return fd;
}

/* Run the ticket callback: returns its result, the key name used or looked up in <name>. */
static int ticket(unsigned char name[16], int enc)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	EVP_MAC *mac = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_HMAC, NULL);
	EVP_MAC_CTX *h = EVP_MAC_CTX_new(mac);
	unsigned char iv[EVP_MAX_IV_LENGTH] = {0};
	int r = tls_keys_ticket_cb(NULL, name, iv, c, h, enc);

	EVP_MAC_CTX_free(h);
	EVP_MAC_free(mac);
	EVP_CIPHER_CTX_free(c);
	return r;
}

static void test_encrypt_decrypt(void)
{
	unsigned char name[16], other[16];

	CU_ASSERT_EQUAL(tls_keys_setup(3600), 0);
	CU_ASSERT_EQUAL(tls_keys_lifetime(), 3600 * (TLS_KEYS_N - 1));
	CU_ASSERT_EQUAL(ticket(name, 1), 1);
	CU_ASSERT_EQUAL(ticket(name, 0), 1); /* the current key: no renewal */
	memcpy(other, name, sizeof(other));
	other[0] ^= 0xff;
	CU_ASSERT_EQUAL(ticket(other, 0), 0); /* unknown: a full handshake */
}

/* A successor's ring decrypts the predecessor's tickets. */
static void test_export_import(void)
{
	unsigned char name[16], again[16];
	int fd;

	CU_ASSERT_EQUAL(tls_keys_setup(3600), 0);
	CU_ASSERT_EQUAL(ticket(name, 1), 1);
	fd = tls_keys_export();
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT(tls_keys_is_export(fd));
	/* Another ring in between: the imported one replaces it. */
	{
		struct t_file f = {0};
		int x;

		f.k[0].born = clock_wall_ms() / 1000;
		memset(f.k[0].name, 0x42, 16);
		x = ring_file(&f, 1, 0);
		CU_ASSERT_EQUAL(tls_keys_import(x), 1);
		close(x);
		CU_ASSERT_EQUAL(ticket(name, 0), 0);
	}
	CU_ASSERT(tls_keys_import(fd) >= 1);
	close(fd);
	CU_ASSERT_EQUAL(ticket(name, 0), 1);
	CU_ASSERT_EQUAL(ticket(again, 1), 1);
	CU_ASSERT(!memcmp(again, name, 16));
}

/* Keys older than a period rotate on the next use; a retired key decrypts (renewing the
 * ticket) while in the ring, and not once enough periods have passed. */
static void test_rotation(void)
{
	int64_t now = clock_wall_ms() / 1000;
	struct t_file f = {0};
	unsigned char name[16], cur[16];
	int fd;

	CU_ASSERT_EQUAL(tls_keys_setup(100), 0);
	memset(f.k[0].name, 0x11, 16);
	f.k[0].born = now - 150; /* one period and a half */
	fd = ring_file(&f, 1, 0);
	CU_ASSERT_EQUAL(tls_keys_import(fd), 1);
	close(fd);
	CU_ASSERT_EQUAL(ticket(cur, 1), 1);
	CU_ASSERT(memcmp(cur, f.k[0].name, 16) != 0); /* a new current key */
	memcpy(name, f.k[0].name, 16);
	CU_ASSERT_EQUAL(ticket(name, 0), 2); /* retired: good, renewed */
	CU_ASSERT_EQUAL(ticket(cur, 0), 1);

	f.k[0].born = now - 100 * (TLS_KEYS_N + 1); /* every slot's period has passed */
	fd = ring_file(&f, 1, 0);
	CU_ASSERT_EQUAL(tls_keys_import(fd), 1);
	close(fd);
	CU_ASSERT_EQUAL(ticket(cur, 1), 1);
	memcpy(name, f.k[0].name, 16);
	CU_ASSERT_EQUAL(ticket(name, 0), 0);
	CU_ASSERT_EQUAL(tls_keys_setup(TLS_KEYS_ROTATE_DEF), 0);
}

/* What is not a ring is refused, and the ring in use stays. */
static void test_bad_imports(void)
{
	struct t_file f = {0};
	unsigned char name[16];
	int sv[2], fd;

	CU_ASSERT_EQUAL(tls_keys_setup(3600), 0);
	CU_ASSERT_EQUAL(ticket(name, 1), 1);
	CU_ASSERT_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	CU_ASSERT(!tls_keys_is_export(sv[0]));
	CU_ASSERT_EQUAL(tls_keys_import(sv[0]), -EINVAL);
	close(sv[0]);
	close(sv[1]);
	fd = ring_file(&f, 2, 16 + sizeof(f.k[0])); /* says 2 keys, holds 1 */
	CU_ASSERT_EQUAL(tls_keys_import(fd), -EINVAL);
	close(fd);
	fd = ring_file(&f, TLS_KEYS_N + 1, 16); /* too many */
	CU_ASSERT_EQUAL(tls_keys_import(fd), -EINVAL);
	close(fd);
	fd = ring_file(&f, 0, 0);
	CU_ASSERT_EQUAL(tls_keys_import(fd), -EINVAL);
	close(fd);
	f.k[0].born = 1;
	f.k[1].born = 2; /* oldest first */
	fd = ring_file(&f, 2, 0);
	CU_ASSERT_EQUAL(tls_keys_import(fd), -EINVAL);
	close(fd);
	memcpy(f.magic, "garbage!", 8);
	fd = memfd_create("t", MFD_CLOEXEC);
	CU_ASSERT_FATAL(fd >= 0 && write(fd, &f, sizeof(f)) == (ssize_t)sizeof(f));
	CU_ASSERT_EQUAL(tls_keys_import(fd), -EINVAL);
	close(fd);
	CU_ASSERT_EQUAL(ticket(name, 0), 1);
}

/* Write <len> bytes of key <fill> (its name bytes all <fill>) into a file under <dir>. */
static void key_file(char *path, size_t size, const char *dir, int fill, size_t len)
{
	unsigned char k[TLS_KEYFILE_SIZE + 8];
	int fd;

	memset(k, fill, sizeof(k));
	snprintf(path, size, "%s/k%d-%zu", dir, fill, len);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	CU_ASSERT_FATAL(fd >= 0 && write(fd, k, len) == (ssize_t)len);
	close(fd);
}

/* Run the key file callback on an SSL of a context whose keys are <ks>. */
static int file_ticket(struct tls_keyfiles *ks, unsigned char name[16], int enc)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	SSL *ssl;
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	EVP_MAC *mac = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_HMAC, NULL);
	EVP_MAC_CTX *h = EVP_MAC_CTX_new(mac);
	unsigned char iv[EVP_MAX_IV_LENGTH] = {0};
	int r;

	CU_ASSERT_FATAL(ctx != NULL);
	SSL_CTX_set_app_data(ctx, ks);
	ssl = SSL_new(ctx);
	CU_ASSERT_FATAL(ssl != NULL);
	r = tls_keyfiles_ticket_cb(ssl, name, iv, c, h, enc);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	EVP_MAC_CTX_free(h);
	EVP_MAC_free(mac);
	EVP_CIPHER_CTX_free(c);
	return r;
}

static void test_key_files(void)
{
	char dir[] = "/tmp/pingx-tlskeys.XXXXXX", p1[128], p2[128], bad[128], err[256];
	const char *one[] = {p1}, *both[] = {p2, p1}, *other[] = {p2}, *dup[] = {p1, p1};
	const char *short_[] = {p1, bad};
	struct tls_keyfiles *ks;
	unsigned char name[16];

	CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
	key_file(p1, sizeof(p1), dir, 1, TLS_KEYFILE_SIZE);
	key_file(p2, sizeof(p2), dir, 2, TLS_KEYFILE_SIZE);
	/* The first key seals, under its name (the file's first 16 bytes). */
	ks = tls_keyfiles_load(one, 1, err, sizeof(err));
	CU_ASSERT_FATAL(ks != NULL);
	CU_ASSERT_EQUAL(file_ticket(ks, name, 1), 1);
	CU_ASSERT_EQUAL(name[0], 1);
	CU_ASSERT_EQUAL(name[15], 1);
	CU_ASSERT_EQUAL(file_ticket(ks, name, 0), 1);
	tls_keyfiles_free(ks);
	/* Listed second, it still opens, and the ticket is renewed under the first. */
	ks = tls_keyfiles_load(both, 2, err, sizeof(err));
	CU_ASSERT_FATAL(ks != NULL);
	CU_ASSERT_EQUAL(file_ticket(ks, name, 0), 2);
	tls_keyfiles_free(ks);
	/* Not listed: a full handshake. */
	ks = tls_keyfiles_load(other, 1, err, sizeof(err));
	CU_ASSERT_FATAL(ks != NULL);
	CU_ASSERT_EQUAL(file_ticket(ks, name, 0), 0);
	tls_keyfiles_free(ks);
	/* Wrong sizes, a missing file, the same key twice. */
	key_file(bad, sizeof(bad), dir, 3, TLS_KEYFILE_SIZE - 1);
	errno = 0;
	CU_ASSERT_PTR_NULL(tls_keyfiles_load(short_, 2, err, sizeof(err)));
	CU_ASSERT_EQUAL(errno, EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "holds 79 bytes"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, bad));
	unlink(bad);
	key_file(bad, sizeof(bad), dir, 3, 48); /* nginx's older 48-byte keys */
	CU_ASSERT_PTR_NULL(tls_keyfiles_load(short_, 2, err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "holds 48 bytes"));
	unlink(bad);
	key_file(bad, sizeof(bad), dir, 3, TLS_KEYFILE_SIZE + 1);
	CU_ASSERT_PTR_NULL(tls_keyfiles_load(short_, 2, err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "holds more than 80 bytes"));
	unlink(bad);
	CU_ASSERT_PTR_NULL(tls_keyfiles_load(short_, 2, err, sizeof(err)));
	CU_ASSERT_EQUAL(errno, ENOENT);
	CU_ASSERT_PTR_NULL(tls_keyfiles_load(dup, 2, err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "the same key name"));
	unlink(p1);
	unlink(p2);
	rmdir(dir);
}

int test_tlskeys_register(void)
{
	static const CU_TestInfo tests[] = {
		{"encrypt and decrypt", test_encrypt_decrypt},
		{"export to a successor", test_export_import},
		{"rotation by age", test_rotation},
		{"bad imports", test_bad_imports},
		{"key files", test_key_files},
		CU_TEST_INFO_NULL,
	};
	CU_pSuite su = CU_add_suite("tlskeys", NULL, NULL);

	if (!su)
		return CU_get_error();
	for (const CU_TestInfo *t = tests; t->pName; t++)
		if (!CU_add_test(su, t->pName, t->pTestFunc))
			return CU_get_error();
	return CUE_SUCCESS;
}
