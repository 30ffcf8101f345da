#include "COpenSSLShim.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

int cs_ssl_set_expected_peer_name(SSL *ssl, const char *name) {
    X509_VERIFY_PARAM *param = SSL_get0_param(ssl);
    if (param == NULL) {
        return 0;
    }
    // set1_ip_asc succeeds only for an IPv4/IPv6 literal; that is the discriminator.
    if (X509_VERIFY_PARAM_set1_ip_asc(param, name) == 1) {
        return 1;
    }
    ERR_clear_error();
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    if (SSL_set1_host(ssl, name) != 1) {
        return 0;
    }
    return SSL_set_tlsext_host_name(ssl, name) == 1 ? 1 : 0;
}

int cs_x509_subject_common_name(X509 *cert, char *out, size_t capacity) {
    X509_NAME *subject = X509_get_subject_name(cert);
    if (subject == NULL) {
        return -1;
    }
    int index = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
    if (index < 0) {
        return -1;
    }
    ASN1_STRING *data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, index));
    unsigned char *utf8 = NULL;
    int length = ASN1_STRING_to_UTF8(&utf8, data);
    if (length < 0) {
        return -1;
    }
    int result = -2;
    if ((size_t)length <= capacity) {
        memcpy(out, utf8, (size_t)length);
        result = length;
    }
    OPENSSL_free(utf8);
    return result;
}

static int append_line(char *out, size_t capacity, size_t *used, char kind, const char *text,
                       size_t length) {
    if (*used + length + 3 > capacity) {
        return -1;
    }
    out[(*used)++] = kind;
    out[(*used)++] = ':';
    memcpy(out + *used, text, length);
    *used += length;
    out[(*used)++] = '\n';
    return 0;
}

static int append_ip(char *out, size_t capacity, size_t *used, const ASN1_OCTET_STRING *ip) {
    char text[INET6_ADDRSTRLEN];
    int family;
    if (ip->length == 4) {
        family = AF_INET;
    } else if (ip->length == 16) {
        family = AF_INET6;
    } else {
        return 0; // not an address (a name constraint mask); skip it
    }
    if (inet_ntop(family, ip->data, text, sizeof(text)) == NULL) {
        return 0;
    }
    return append_line(out, capacity, used, 'I', text, strlen(text));
}

/* A DNS name is printable ASCII (IA5 without controls): one with a control byte (a
 * newline could smuggle a second, made-up line into the list) or a NUL is skipped. */
static int printable_name(const unsigned char *data, int length) {
    for (int i = 0; i < length; i++) {
        if (data[i] < 0x21 || data[i] > 0x7e) {
            return 0;
        }
    }
    return length > 0;
}

int cs_x509_subject_alt_names(X509 *cert, char *out, size_t capacity) {
    GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    if (names == NULL) {
        return 0;
    }
    size_t used = 0;
    int failed = 0;
    for (int i = 0; i < sk_GENERAL_NAME_num(names) && !failed; i++) {
        const GENERAL_NAME *name = sk_GENERAL_NAME_value(names, i);
        if (name->type == GEN_DNS) {
            const ASN1_IA5STRING *dns = name->d.dNSName;
            if (!printable_name(dns->data, dns->length)) {
                continue;
            }
            failed = append_line(out, capacity, &used, 'D', (const char *)dns->data,
                                 (size_t)dns->length);
        } else if (name->type == GEN_IPADD) {
            failed = append_ip(out, capacity, &used, name->d.iPAddress);
        }
    }
    GENERAL_NAMES_free(names);
    return failed ? -1 : (int)used;
}

unsigned long cs_err_pop(char *out, size_t capacity) {
    const char *data = NULL;
    int flags = 0;
    unsigned long code = ERR_get_error_all(NULL, NULL, NULL, &data, &flags);
    if (code == 0 || capacity == 0) {
        return code;
    }
    const char *library = ERR_lib_error_string(code);
    const char *reason = ERR_reason_error_string(code);
    char fallback[32];
    if (reason == NULL) {
        snprintf(fallback, sizeof(fallback), "reason %d", ERR_GET_REASON(code));
        reason = fallback;
    }
    if (data != NULL && (flags & ERR_TXT_STRING) && data[0] != '\0') {
        snprintf(out, capacity, "%s: %s (%s)", library ? library : "OpenSSL", reason, data);
    } else {
        snprintf(out, capacity, "%s: %s", library ? library : "OpenSSL", reason);
    }
    return code;
}
