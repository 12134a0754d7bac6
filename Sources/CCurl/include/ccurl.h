// One HTTP request through libcurl (Debian libcurl4-openssl-dev), as a plain C call: Swift
// cannot call curl_easy_setopt (variadic) or easily pass C callbacks, so this shim does the
// whole exchange and hands back the status, the error and a bounded response body.
#ifndef CCURL_H
#define CCURL_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    /// HTTP status, 0 when no response arrived.
    long status;
    /// CURLcode; 0 on a completed exchange (whatever the status).
    int curl_code;
    /// curl's error text when curl_code != 0.
    char error[256];
    /// The response body (malloc'ed; free with rs_http_result_free), cut at the limit given.
    unsigned char *body;
    size_t body_length;
    int body_truncated;
    /// The response's ETag header value (quotes included), empty when absent.
    char etag[128];
} rs_http_result;

/// Performs `method url` with the given header lines ("Name: value") and body (sent from
/// memory with CURLOPT_POSTFIELDS). The URL is used as given (CURLOPT_PATH_AS_IS): callers
/// sign requests themselves, so nothing may change what was signed. TLS verification uses the system CA store. Returns 0 when curl completed the exchange.
int rs_curl_request(const char *method, const char *url, const char *const *headers, size_t header_count,
                    const unsigned char *body, size_t body_length, long connect_timeout_ms, long timeout_ms, size_t max_response_bytes, rs_http_result *result);

void rs_http_result_free(rs_http_result *result);

#ifdef __cplusplus
}
#endif
#endif
