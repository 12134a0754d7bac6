// A small C interface to simdjson's DOM parser (Debian libsimdjson-dev), so Swift can walk
// parsed JSON without C++ interop. Values are opaque 16-byte references into the parsed
// document, which belongs to a per-thread parser: a reference stays valid until the next
// rs_json_parse on the same thread. Decode synchronously and copy out what you keep.
#ifndef CSIMDJSON_H
#define CSIMDJSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct { uint64_t opaque[2]; } rs_json_ref;
typedef struct { rs_json_ref current; rs_json_ref end; } rs_json_iter;

typedef enum {
    RS_JSON_ARRAY = 1,
    RS_JSON_OBJECT = 2,
    RS_JSON_INT64 = 3,
    RS_JSON_UINT64 = 4,
    RS_JSON_DOUBLE = 5,
    RS_JSON_STRING = 6,
    RS_JSON_BOOL = 7,
    RS_JSON_NULL = 8,
} rs_json_type_t;

/// simdjson reads up to this many bytes past the input's end (SIMDJSON_PADDING; checked in
/// csimdjson.cpp). Their values do not matter; they must be allocated.
#define RS_JSON_PADDING 64

/// Parses `length` bytes. When at least RS_JSON_PADDING bytes past them are allocated and
/// readable (`readable_slack`), simdjson parses them in place; otherwise it first copies them
/// into its own padded buffer. Returns 0 and sets `root`, or simdjson's error code and sets
/// `error_message` to a static description.
int rs_json_parse(const uint8_t *bytes, size_t length, size_t readable_slack, size_t max_depth, rs_json_ref *root, const char **error_message);

rs_json_type_t rs_json_type(rs_json_ref value);
/// Any JSON number as a double.
bool rs_json_number(rs_json_ref value, double *out);
bool rs_json_int64(rs_json_ref value, int64_t *out);
bool rs_json_bool(rs_json_ref value, bool *out);
/// The unescaped UTF-8 bytes of a string, inside the document.
bool rs_json_string(rs_json_ref value, const uint8_t **bytes, size_t *length);

bool rs_json_object_iter(rs_json_ref object, rs_json_iter *iter);
bool rs_json_object_next(rs_json_iter *iter, const uint8_t **key, size_t *key_length, rs_json_ref *value);
bool rs_json_array_iter(rs_json_ref array, rs_json_iter *iter);
bool rs_json_array_next(rs_json_iter *iter, rs_json_ref *value);

/// A string inside the document; `bytes` is NULL when the field was absent or not a string.
typedef struct { const uint8_t *bytes; size_t length; } rs_json_str;

typedef enum {
    RS_STATS_OTHER = 0,
    RS_STATS_OUTBOUND_RTP = 1,
    RS_STATS_INBOUND_RTP = 2,
    RS_STATS_REMOTE_INBOUND_RTP = 3,
    RS_STATS_CANDIDATE_PAIR = 4,
    RS_STATS_LOCAL_CANDIDATE = 5,
    RS_STATS_TRANSPORT = 6,
    RS_STATS_CODEC = 7,
} rs_stats_type_t;

/// The fields of a getStats() object the figures use. Numbers are NaN when absent or not a
/// finite number; booleans are -1 when absent.
typedef struct {
    rs_stats_type_t type;
    rs_json_str id, kind, media_type, codec_id, local_id, state, local_candidate_id, candidate_type,
        relay_protocol, protocol, url, selected_candidate_pair_id, mime_type;
    double timestamp, bytes_sent, packets_sent, bytes_received, packets_received, packets_lost, jitter,
        jitter_buffer_delay, jitter_buffer_emitted_count, frame_width, frame_height, round_trip_time,
        round_trip_time_measurements, total_round_trip_time, current_round_trip_time;
    int8_t selected, nominated;
} rs_stats_object;

/// How many used stats objects one report keeps; a report with more (no browser sends that
/// many) keeps the first ones.
#define RS_STATS_MAX_USED 128

/// Walks a report (an array of stats objects, or an object keyed by id whose key stands in for a
/// missing `id`) and writes the objects of the types above (at most RS_STATS_MAX_USED) into a
/// buffer owned by the calling thread, valid until its next call or parse: `*objects` points
/// at it. (An array of 128 per sample, 47 KB, was malloc'ed and freed for every sample: with
/// the `malloc_consolidate` it set off, 1–2 % of ingest CPU in a perf profile.)
/// Returns how many were written. `*count` gets the number of stats objects seen; when an
/// element is not an object, returns 0 and sets `*bad_index` to its position (else -1).
/// Returns 0 with `*count` > `limit` as soon as more than `limit` objects were seen.
size_t rs_json_extract_stats(rs_json_ref report, size_t limit, size_t *count, long *bad_index, const rs_stats_object **objects);

#ifdef __cplusplus
}
#endif
#endif
