#include "csimdjson.h"

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

extern "C" int rs_json_parse(const uint8_t *bytes, size_t length, size_t max_depth, rs_json_ref *root, const char **error_message) {
    if (max_depth > 0 && thread_parser.max_depth() != max_depth) {
        auto error = thread_parser.allocate(thread_parser.capacity() > 0 ? thread_parser.capacity() : simdjson::SIMDJSON_PADDING, max_depth);
        if (error) {
            *error_message = simdjson::error_message(error);
            return int(error);
        }
    }
    auto result = thread_parser.parse(reinterpret_cast<const char *>(bytes), length, true);
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
