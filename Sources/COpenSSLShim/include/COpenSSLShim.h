// The small part of OpenSSL 3 that Swift cannot call directly: function-like macros,
// `SSL_OP_*` constants built from casts, stack-of-GENERAL_NAME walking, and error-queue
// formatting. Everything else (SSL_read, SSL_write, BIO_read, …) Swift calls as is.
#ifndef CART_OPENSSL_SHIM_H
#define CART_OPENSSL_SHIM_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

// Protocol versions, as the integers `SSL_CTX_set_min_proto_version` takes.
static inline int cs_tls1_2_version(void) { return TLS1_2_VERSION; }
static inline int cs_tls1_3_version(void) { return TLS1_3_VERSION; }

static inline int cs_ssl_ctx_set_min_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_min_proto_version(ctx, version);
}

// Options every SharedCart context sets: no renegotiation (a DoS and confusion source),
// no compression (CRIME), and a fresh ECDHE key per handshake.
// Sessions are never resumed (no tickets, no server-side cache): a cache would hold up
// to 20,000 sessions, each with its peer's certificate, for nothing.
static inline void cs_ssl_ctx_set_hardening_options(SSL_CTX *ctx) {
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_TICKET);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
}

// With memory BIOs a write never blocks, so a whole buffer is always taken; moving the
// buffer between calls is still allowed so Swift's ByteBuffer storage may be reused.
static inline void cs_ssl_ctx_set_modes(SSL_CTX *ctx) {
    SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
}

static inline int cs_ssl_set_tlsext_host_name(SSL *ssl, const char *name) {
    return (int)SSL_set_tlsext_host_name(ssl, name);
}

// A memory BIO that reports "retry" instead of EOF when empty, so SSL_read says WANT_READ.
static inline BIO *cs_bio_new_mem(void) {
    BIO *bio = BIO_new(BIO_s_mem());
    if (bio != NULL) {
        BIO_set_mem_eof_return(bio, -1);
    }
    return bio;
}

static inline size_t cs_bio_pending(BIO *bio) { return (size_t)BIO_ctrl_pending(bio); }

// Sets the name the peer certificate must carry in its SAN: an IP literal is matched
// against IP entries, anything else against DNS entries (and sent as SNI).
// Returns 1 on success, 0 on failure.
int cs_ssl_set_expected_peer_name(SSL *ssl, const char *name);

// Copies the peer certificate's subject common name (UTF-8) into `out`.
// Returns its length, -1 if there is none, or -2 if it does not fit in `capacity`.
int cs_x509_subject_common_name(X509 *cert, char *out, size_t capacity);

// Copies the certificate's subjectAltName DNS and IP entries into `out` as lines
// "D:<name>\n" and "I:<address>\n". Returns the bytes written (0 if there is no SAN),
// or -1 if they do not fit in `capacity`.
int cs_x509_subject_alt_names(X509 *cert, char *out, size_t capacity);

// Pops the oldest error from this thread's OpenSSL error queue and formats it as
// "<library>: <reason>" into `out`. Returns the packed error code, 0 when the queue is empty.
unsigned long cs_err_pop(char *out, size_t capacity);

// OpenSSL's reason code inside a packed error code (ERR_GET_REASON is a macro/inline).
static inline int cs_err_reason(unsigned long code) { return ERR_GET_REASON(code); }

static inline int cs_ssl_r_peer_did_not_return_a_certificate(void) {
    return SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE;
}

static inline int cs_ssl_r_certificate_required_alert(void) {
    return SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED;
}

#endif
