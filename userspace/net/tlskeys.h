/* SPDX-License-Identifier: GPL-2.0 */
/* Session ticket keys: one ring per process, shared by every worker and every TLS listener,
 * kept across reloads (it lives outside the generations) and handed to a successor at a binary
 * upgrade, so that tickets issued before either still resume. The newest key encrypts; it
 * rotates after a period, and the previous keys still decrypt (the ticket is then renewed). */
#ifndef USERSPACE_NET_TLSKEYS_H
#define USERSPACE_NET_TLSKEYS_H

#include <openssl/evp.h>
#include <openssl/ssl.h>

#define TLS_KEYS_N	    3	 /* keys in the ring: the current one and two before it */
#define TLS_KEYS_ROTATE_DEF 3600 /* the default rotation period, seconds */

/* Rotate the ring every <rotate_s> seconds from now on (0 keeps the period: an hour unless
 * set). Makes the first key when the ring is empty. Returns 0 or a negative errno (no
 * random bytes). */
int tls_keys_setup(unsigned int rotate_s);

/* How long a ticket stays usable, seconds: the time its key spends in the ring after it was
 * issued at the latest, for SSL_CTX_set_timeout(). */
unsigned int tls_keys_lifetime(void);

/* The ticket key callback for SSL_CTX_set_tlsext_ticket_key_evp_cb(). */
int tls_keys_ticket_cb(SSL *ssl, unsigned char key_name[16], unsigned char *iv,
	EVP_CIPHER_CTX *cctx, EVP_MAC_CTX *hctx, int enc);

/* The ring in a sealed memory file for a successor (it travels with the listening sockets).
 * Returns the descriptor (close-on-exec) or a negative errno. */
int tls_keys_export(void);

/* Whether <fd> is what tls_keys_export() makes (a memory file, not a socket). */
int tls_keys_is_export(int fd);

/* Replace the ring with the one in <fd> (from tls_keys_export() of a predecessor), keeping
 * its keys' ages. Returns the number of keys taken, or a negative errno: -EINVAL when <fd>
 * holds no valid ring (the ring is then unchanged). */
int tls_keys_import(int fd);

/* Ticket keys read from files, in nginx's ssl_session_ticket_key format (80 bytes: a 16-byte
 * name, a 32-byte HMAC-SHA256 key, a 32-byte AES-256-CBC key), for a listener whose tickets
 * must resume on other machines and after restarts: the first key seals, all open. They are
 * not rotated (the operator replaces the files and reloads). */
#define TLS_KEYFILE_SIZE 80

struct tls_keyfiles;

/* Read the <n> key files <paths>. Returns the keys, or NULL with errno and why in <err>
 * (the file at fault and what is wrong with it). */
struct tls_keyfiles *tls_keyfiles_load(
	const char *const *paths, size_t n, char *err, size_t errlen);

/* Free <k> (NULL is accepted). */
void tls_keyfiles_free(struct tls_keyfiles *k);

/* The ticket key callback of a context whose app data (SSL_CTX_set_app_data()) is the
 * struct tls_keyfiles its tickets are sealed with. */
int tls_keyfiles_ticket_cb(SSL *ssl, unsigned char key_name[16], unsigned char *iv,
	EVP_CIPHER_CTX *cctx, EVP_MAC_CTX *hctx, int enc);

#endif /* USERSPACE_NET_TLSKEYS_H */
