#include "ccurl.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static pthread_once_t global_init_once = PTHREAD_ONCE_INIT;
static void global_init(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

typedef struct {
    rs_http_result *result;
    size_t limit;
    size_t capacity;
} body_sink;

static size_t write_body(char *data, size_t size, size_t count, void *userdata) {
    body_sink *sink = userdata;
    size_t length = size * count;
    rs_http_result *result = sink->result;
    size_t room = sink->limit > result->body_length ? sink->limit - result->body_length : 0;
    size_t take = length < room ? length : room;
    if (take < length) result->body_truncated = 1;
    if (take == 0) return length;
    if (result->body_length + take > sink->capacity) {
        size_t capacity = sink->capacity ? sink->capacity * 2 : 4096;
        while (capacity < result->body_length + take) capacity *= 2;
        unsigned char *grown = realloc(result->body, capacity);
        if (grown == NULL) return 0;  // aborts the transfer: CURLE_WRITE_ERROR
        result->body = grown;
        sink->capacity = capacity;
    }
    memcpy(result->body + result->body_length, data, take);
    result->body_length += take;
    return length;
}

static size_t read_header(char *data, size_t size, size_t count, void *userdata) {
    rs_http_result *result = userdata;
    size_t length = size * count;
    if (length > 5 && strncasecmp(data, "etag:", 5) == 0) {
        size_t start = 5;
        while (start < length && (data[start] == ' ' || data[start] == '\t')) start++;
        size_t end = length;
        while (end > start && (data[end - 1] == '\r' || data[end - 1] == '\n' || data[end - 1] == ' ')) end--;
        size_t n = end - start < sizeof(result->etag) - 1 ? end - start : sizeof(result->etag) - 1;
        memcpy(result->etag, data + start, n);
        result->etag[n] = 0;
    }
    return length;
}

int rs_curl_request(const char *method, const char *url, const char *const *headers, size_t header_count,
                    const unsigned char *body, size_t body_length, long connect_timeout_ms, long timeout_ms, size_t max_response_bytes, rs_http_result *result) {
    pthread_once(&global_init_once, global_init);
    memset(result, 0, sizeof(*result));
    CURL *curl = curl_easy_init();
    if (curl == NULL) {
        result->curl_code = CURLE_FAILED_INIT;
        strncpy(result->error, "curl_easy_init failed", sizeof(result->error) - 1);
        return result->curl_code;
    }
    char error[CURL_ERROR_SIZE] = {0};
    struct curl_slist *list = NULL;
    for (size_t i = 0; i < header_count; i++) list = curl_slist_append(list, headers[i]);
    // Requests arrive signed (SigV4 in Swift): curl must send the URL and these headers as
    // given. Headers curl adds itself (Accept, Expect, Content-Length) are not signed.
    body_sink sink = {result, max_response_bytes, 0};

    curl_easy_setopt(curl, CURLOPT_URL, url);
    // The path is signed as sent: no dot-segment squashing (RFC 3986 §5.2.4) by curl.
    curl_easy_setopt(curl, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    if (strcmp(method, "HEAD") == 0) curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    if (body != NULL || strcmp(method, "PUT") == 0 || strcmp(method, "POST") == 0) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body != NULL ? (const char *)body : "");
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_length);
    }
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, connect_timeout_ms);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, write_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, read_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, result);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");

    CURLcode code = curl_easy_perform(curl);
    result->curl_code = (int)code;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &result->status);
    if (code != CURLE_OK) {
        const char *text = error[0] ? error : curl_easy_strerror(code);
        strncpy(result->error, text, sizeof(result->error) - 1);
    }
    curl_slist_free_all(list);
    curl_easy_cleanup(curl);
    return (int)code;
}

void rs_http_result_free(rs_http_result *result) {
    free(result->body);
    result->body = NULL;
    result->body_length = 0;
}
