// SHA-256, MD5 and HMAC-SHA256 from OpenSSL's libcrypto (Debian libssl-dev; libcurl already
// links it), as plain C calls: what S3 signing, Content-MD5 and sealed-file hashes need.
#ifndef CDIGEST_H
#define CDIGEST_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// One-shot digests; `out` holds 32 (SHA-256) or 16 (MD5) bytes. Return 0 on success.
int rs_sha256(const void *data, size_t length, unsigned char out[32]);
int rs_md5(const void *data, size_t length, unsigned char out[16]);
int rs_hmac_sha256(const void *key, size_t key_length, const void *data, size_t length, unsigned char out[32]);

/// Incremental SHA-256 (a sealed file is hashed as it is written). NULL when out of memory.
typedef struct rs_sha256_context rs_sha256_context;
rs_sha256_context *rs_sha256_begin(void);
int rs_sha256_update(rs_sha256_context *context, const void *data, size_t length);
/// Writes the digest and frees the context.
int rs_sha256_finish(rs_sha256_context *context, unsigned char out[32]);
/// Frees a context that will not be finished.
void rs_sha256_free(rs_sha256_context *context);

#ifdef __cplusplus
}
#endif
#endif
