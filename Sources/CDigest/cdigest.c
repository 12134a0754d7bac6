#include "cdigest.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

struct rs_sha256_context { EVP_MD_CTX *md; };

static int digest(const EVP_MD *type, const void *data, size_t length, unsigned char *out) {
    unsigned int written = 0;
    return EVP_Digest(data, length, out, &written, type, NULL) == 1 ? 0 : -1;
}

int rs_sha256(const void *data, size_t length, unsigned char out[32]) { return digest(EVP_sha256(), data, length, out); }
int rs_md5(const void *data, size_t length, unsigned char out[16]) { return digest(EVP_md5(), data, length, out); }

int rs_hmac_sha256(const void *key, size_t key_length, const void *data, size_t length, unsigned char out[32]) {
    unsigned int written = 0;
    return HMAC(EVP_sha256(), key, (int)key_length, data, length, out, &written) != NULL ? 0 : -1;
}

rs_sha256_context *rs_sha256_begin(void) {
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (md == NULL) return NULL;
    if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) { EVP_MD_CTX_free(md); return NULL; }
    rs_sha256_context *context = OPENSSL_malloc(sizeof(*context));
    if (context == NULL) { EVP_MD_CTX_free(md); return NULL; }
    context->md = md;
    return context;
}

int rs_sha256_update(rs_sha256_context *context, const void *data, size_t length) {
    return EVP_DigestUpdate(context->md, data, length) == 1 ? 0 : -1;
}

int rs_sha256_finish(rs_sha256_context *context, unsigned char out[32]) {
    unsigned int written = 0;
    int status = EVP_DigestFinal_ex(context->md, out, &written) == 1 ? 0 : -1;
    rs_sha256_free(context);
    return status;
}

void rs_sha256_free(rs_sha256_context *context) {
    if (context == NULL) return;
    EVP_MD_CTX_free(context->md);
    OPENSSL_free(context);
}
