#include "csimdjson.h"

#include <cmath>
#include <cstring>
#include <type_traits>

#include <simdjson.h>

using simdjson::dom::element;
using simdjson::dom::element_type;

static_assert(sizeof(element) <= sizeof(rs_json_ref), "dom::element must fit rs_json_ref");
static_assert(sizeof(simdjson::dom::object::iterator) <= sizeof(rs_json_ref), "object iterator must fit");
static_assert(sizeof(simdjson::dom::array::iterator) <= sizeof(rs_json_ref), "array iterator must fit");
static_assert(std::is_trivially_copyable<element>::value, "dom::element must be trivially copyable");

namespace {

// One parser per thread: ingest decodes synchronously on the event-loop thread that received
// the request, so parsed documents are never shared. 16 MiB bounds the largest document.
thread_local simdjson::dom::parser thread_parser{16 * 1024 * 1024};

template <typename T> T load(const rs_json_ref &ref) {
    T value;
    std::memcpy(static_cast<void *>(&value), &ref, sizeof(T));
    return value;
}

template <typename T> rs_json_ref store(const T &value) {
    rs_json_ref ref{};
    std::memcpy(&ref, static_cast<const void *>(&value), sizeof(T));
    return ref;
}

} // namespace

static_assert(RS_JSON_PADDING == simdjson::SIMDJSON_PADDING, "csimdjson.h's RS_JSON_PADDING must be simdjson's padding");

extern "C" int rs_json_parse(const uint8_t *bytes, size_t length, size_t readable_slack, size_t max_depth, rs_json_ref *root, const char **error_message) {
    if (max_depth > 0 && thread_parser.max_depth() != max_depth) {
        auto error = thread_parser.allocate(thread_parser.capacity() > 0 ? thread_parser.capacity() : simdjson::SIMDJSON_PADDING, max_depth);
        if (error) {
            *error_message = simdjson::error_message(error);
            return int(error);
        }
    }
    // As simdjson does for a std::string with spare capacity: parse in place when the padding
    // is there (no copy of the body), else copy into its padded buffer (realloc_if_needed).
    bool copy = readable_slack < simdjson::SIMDJSON_PADDING;
    auto result = thread_parser.parse(reinterpret_cast<const char *>(bytes), length, copy);
    if (result.error()) {
        *error_message = simdjson::error_message(result.error());
        return int(result.error());
    }
    *root = store(result.value_unsafe());
    return 0;
}

extern "C" rs_json_type_t rs_json_type(rs_json_ref value) {
    switch (load<element>(value).type()) {
    case element_type::ARRAY: return RS_JSON_ARRAY;
    case element_type::OBJECT: return RS_JSON_OBJECT;
    case element_type::INT64: return RS_JSON_INT64;
    case element_type::UINT64: return RS_JSON_UINT64;
    case element_type::DOUBLE: return RS_JSON_DOUBLE;
    case element_type::STRING: return RS_JSON_STRING;
    case element_type::BOOL: return RS_JSON_BOOL;
    case element_type::NULL_VALUE: return RS_JSON_NULL;
    }
    return RS_JSON_NULL;
}

extern "C" bool rs_json_number(rs_json_ref value, double *out) {
    element e = load<element>(value);
    switch (e.type()) {
    case element_type::DOUBLE: return !e.get_double().get(*out);
    case element_type::INT64: { int64_t v; if (e.get_int64().get(v)) return false; *out = double(v); return true; }
    case element_type::UINT64: { uint64_t v; if (e.get_uint64().get(v)) return false; *out = double(v); return true; }
    default: return false;
    }
}

extern "C" bool rs_json_int64(rs_json_ref value, int64_t *out) {
    return !load<element>(value).get_int64().get(*out);
}

extern "C" bool rs_json_bool(rs_json_ref value, bool *out) {
    return !load<element>(value).get_bool().get(*out);
}

extern "C" bool rs_json_string(rs_json_ref value, const uint8_t **bytes, size_t *length) {
    std::string_view view;
    if (load<element>(value).get_string().get(view)) return false;
    *bytes = reinterpret_cast<const uint8_t *>(view.data());
    *length = view.size();
    return true;
}

extern "C" bool rs_json_object_iter(rs_json_ref object, rs_json_iter *iter) {
    simdjson::dom::object o;
    if (load<element>(object).get_object().get(o)) return false;
    iter->current = store(o.begin());
    iter->end = store(o.end());
    return true;
}

extern "C" bool rs_json_object_next(rs_json_iter *iter, const uint8_t **key, size_t *key_length, rs_json_ref *value) {
    auto current = load<simdjson::dom::object::iterator>(iter->current);
    auto end = load<simdjson::dom::object::iterator>(iter->end);
    if (!(current != end)) return false;
    std::string_view k = current.key();
    *key = reinterpret_cast<const uint8_t *>(k.data());
    *key_length = k.size();
    *value = store(current.value());
    ++current;
    iter->current = store(current);
    return true;
}

extern "C" bool rs_json_array_iter(rs_json_ref array, rs_json_iter *iter) {
    simdjson::dom::array a;
    if (load<element>(array).get_array().get(a)) return false;
    iter->current = store(a.begin());
    iter->end = store(a.end());
    return true;
}

extern "C" bool rs_json_array_next(rs_json_iter *iter, rs_json_ref *value) {
    auto current = load<simdjson::dom::array::iterator>(iter->current);
    auto end = load<simdjson::dom::array::iterator>(iter->end);
    if (!(current != end)) return false;
    *value = store(*current);
    ++current;
    iter->current = store(current);
    return true;
}

namespace {

/// `k == literal`, with the literal's length known at compile time so the comparison is a few
/// inlined loads: `std::string_view::operator==` called memcmp for every key of every stats
/// object (3 % of ingest CPU in a perf profile).
template <size_t N> inline bool key_is(std::string_view k, const char (&literal)[N]) {
    return k.size() == N - 1 && __builtin_memcmp(k.data(), literal, N - 1) == 0;
}

rs_json_str to_str(element value) {
    std::string_view view;
    if (value.get_string().get(view)) return rs_json_str{nullptr, 0};
    return rs_json_str{reinterpret_cast<const uint8_t *>(view.data()), view.size()};
}

double to_number(element value) {
    double number;
    switch (value.type()) {
    case element_type::DOUBLE: if (value.get_double().get(number)) return NAN; break;
    case element_type::INT64: { int64_t v; if (value.get_int64().get(v)) return NAN; number = double(v); break; }
    case element_type::UINT64: { uint64_t v; if (value.get_uint64().get(v)) return NAN; number = double(v); break; }
    default: return NAN;
    }
    return std::isfinite(number) ? number : NAN;
}

int8_t to_bool(element value) {
    bool b;
    if (value.get_bool().get(b)) return -1;
    return b ? 1 : 0;
}

rs_stats_type_t stats_type(element value) {
    std::string_view t;
    if (value.get_string().get(t)) return RS_STATS_OTHER;
    if (key_is(t, "outbound-rtp")) return RS_STATS_OUTBOUND_RTP;
    if (key_is(t, "inbound-rtp")) return RS_STATS_INBOUND_RTP;
    if (key_is(t, "remote-inbound-rtp")) return RS_STATS_REMOTE_INBOUND_RTP;
    if (key_is(t, "candidate-pair")) return RS_STATS_CANDIDATE_PAIR;
    if (key_is(t, "local-candidate")) return RS_STATS_LOCAL_CANDIDATE;
    if (key_is(t, "transport")) return RS_STATS_TRANSPORT;
    if (key_is(t, "codec")) return RS_STATS_CODEC;
    return RS_STATS_OTHER;
}

/// Fills `o` from one stats object; keys are dispatched on length first.
void read_stats(simdjson::dom::object object, rs_stats_object &o) {
    for (auto field : object) {
        std::string_view k = field.key;
        element v = field.value;
        switch (k.size()) {
        case 2: if (key_is(k, "id")) o.id = to_str(v); break;
        case 3: if (key_is(k, "url")) o.url = to_str(v); break;
        case 4: if (key_is(k, "kind")) o.kind = to_str(v); break;
        case 5: if (key_is(k, "state")) o.state = to_str(v); break;
        case 6: if (key_is(k, "jitter")) o.jitter = to_number(v); break;
        case 7: if (key_is(k, "codecId")) o.codec_id = to_str(v); else if (key_is(k, "localId")) o.local_id = to_str(v); break;
        case 8:
            if (key_is(k, "selected")) o.selected = to_bool(v);
            else if (key_is(k, "mimeType")) o.mime_type = to_str(v);
            else if (key_is(k, "protocol")) o.protocol = to_str(v);
            break;
        case 9:
            if (key_is(k, "timestamp")) o.timestamp = to_number(v);
            else if (key_is(k, "bytesSent")) o.bytes_sent = to_number(v);
            else if (key_is(k, "mediaType")) o.media_type = to_str(v);
            else if (key_is(k, "nominated")) o.nominated = to_bool(v);
            break;
        case 10: if (key_is(k, "frameWidth")) o.frame_width = to_number(v); break;
        case 11:
            if (key_is(k, "packetsSent")) o.packets_sent = to_number(v);
            else if (key_is(k, "packetsLost")) o.packets_lost = to_number(v);
            else if (key_is(k, "frameHeight")) o.frame_height = to_number(v);
            break;
        case 13:
            if (key_is(k, "bytesReceived")) o.bytes_received = to_number(v);
            else if (key_is(k, "roundTripTime")) o.round_trip_time = to_number(v);
            else if (key_is(k, "candidateType")) o.candidate_type = to_str(v);
            else if (key_is(k, "relayProtocol")) o.relay_protocol = to_str(v);
            break;
        case 15: if (key_is(k, "packetsReceived")) o.packets_received = to_number(v); break;
        case 16: if (key_is(k, "localCandidateId")) o.local_candidate_id = to_str(v); break;
        case 17: if (key_is(k, "jitterBufferDelay")) o.jitter_buffer_delay = to_number(v); break;
        case 18: if (key_is(k, "totalRoundTripTime")) o.total_round_trip_time = to_number(v); break;
        case 20: if (key_is(k, "currentRoundTripTime")) o.current_round_trip_time = to_number(v); break;
        case 23: if (key_is(k, "selectedCandidatePairId")) o.selected_candidate_pair_id = to_str(v); break;
        case 24: if (key_is(k, "jitterBufferEmittedCount")) o.jitter_buffer_emitted_count = to_number(v); break;
        case 25: if (key_is(k, "roundTripTimeMeasurements")) o.round_trip_time_measurements = to_number(v); break;
        default: break;
        }
    }
}

void reset(rs_stats_object &o) {
    std::memset(&o, 0, sizeof(o));
    o.timestamp = o.bytes_sent = o.packets_sent = o.bytes_received = o.packets_received = o.packets_lost = NAN;
    o.jitter = o.jitter_buffer_delay = o.jitter_buffer_emitted_count = o.frame_width = o.frame_height = NAN;
    o.round_trip_time = o.round_trip_time_measurements = o.total_round_trip_time = o.current_round_trip_time = NAN;
    o.selected = o.nominated = -1;
}

} // namespace

namespace {
// The used objects of the report being decoded on this thread (see rs_json_extract_stats).
thread_local rs_stats_object thread_stats[RS_STATS_MAX_USED];
} // namespace

extern "C" size_t rs_json_extract_stats(rs_json_ref report, size_t limit, size_t *count, long *bad_index, const rs_stats_object **objects) {
    rs_stats_object *out = thread_stats;
    const size_t capacity = RS_STATS_MAX_USED;
    *objects = out;
    element root = load<element>(report);
    size_t written = 0;
    *count = 0;
    *bad_index = -1;
    auto visit = [&](element value, std::string_view key) -> bool {
        if (++*count > limit) return false;
        simdjson::dom::object object;
        if (value.get_object().get(object)) {
            *bad_index = long(*count - 1);
            return false;
        }
        if (written >= capacity) return true;
        // Most objects of a report are of types we do not use: find `type` (Chrome puts it
        // third) and skip those before reading every field.
        rs_stats_type_t type = RS_STATS_OTHER;
        for (auto field : object) {
            if (key_is(field.key, "type")) {
                type = stats_type(field.value);
                break;
            }
        }
        if (type == RS_STATS_OTHER) return true;
        rs_stats_object &o = out[written];
        reset(o);
        read_stats(object, o);
        o.type = type;
        if (o.id.bytes == nullptr && key.data() != nullptr) o.id = rs_json_str{reinterpret_cast<const uint8_t *>(key.data()), key.size()};
        ++written;
        return true;
    };
    simdjson::dom::array array;
    simdjson::dom::object object;
    if (!root.get_array().get(array)) {
        for (element value : array) if (!visit(value, std::string_view())) return 0;
    } else if (!root.get_object().get(object)) {
        for (auto field : object) if (!visit(field.value, field.key)) return 0;
    }
    return written;
}
