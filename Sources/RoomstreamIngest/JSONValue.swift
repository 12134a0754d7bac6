import CSimdjson

/// A value inside a document parsed by simdjson. Valid only until the next parse on the same
/// thread (see csimdjson.h): decode synchronously and copy out what is kept.
struct JSONValue {
    let ref: rs_json_ref

    /// Bytes simdjson may read past its input (SIMDJSON_PADDING).
    static let paddingBytes = Int(RS_JSON_PADDING)

    /// Parses `bytes`. The closure gets the root value; nothing may escape it.
    /// `readableSlackBytes`: how many bytes past `bytes` are allocated and readable (0 when
    /// unknown); with RS_JSON_PADDING of them simdjson parses in place instead of copying.
    static func parse<Result>(_ bytes: UnsafeRawBufferPointer, readableSlackBytes: Int = 0, maxDepth: Int,
                              _ body: (JSONValue) throws(IngestError) -> Result) throws(IngestError) -> Result {
        var root = rs_json_ref()
        var message: UnsafePointer<CChar>?
        // SAFETY: simdjson reads `bytes` (and the slack past them only when the caller vouches
        // for RS_JSON_PADDING bytes of it) during the call, and keeps no pointer to them after.
        let status = rs_json_parse(bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count, max(0, readableSlackBytes), maxDepth, &root, &message)
        guard status == 0 else {
            throw .malformedJSON(message.map { String(cString: $0) } ?? "error \(status)")
        }
        return try body(JSONValue(ref: root))
    }

    var type: rs_json_type_t { rs_json_type(ref) }
    var isObject: Bool { type == RS_JSON_OBJECT }
    var isArray: Bool { type == RS_JSON_ARRAY }
    var isNull: Bool { type == RS_JSON_NULL }

    var number: Double? {
        var value = 0.0
        return rs_json_number(ref, &value) ? value : nil
    }

    var integer: Int64? {
        var value: Int64 = 0
        return rs_json_int64(ref, &value) ? value : nil
    }

    var bool: Bool? {
        var value = false
        return rs_json_bool(ref, &value) ? value : nil
    }

    var string: String? {
        var pointer: UnsafePointer<UInt8>?
        var length = 0
        guard rs_json_string(ref, &pointer, &length) else { return nil }
        // SAFETY: the bytes belong to the live document and are copied into the String here.
        return String(decoding: UnsafeBufferPointer(start: pointer, count: length), as: UTF8.self)
    }

    /// Compares a string value with `literal` without making a String.
    func stringEquals(_ literal: StaticString) -> Bool {
        var pointer: UnsafePointer<UInt8>?
        var length = 0
        guard rs_json_string(ref, &pointer, &length), length == literal.utf8CodeUnitCount else { return false }
        // SAFETY: both buffers are valid for `length` bytes during this call.
        guard length > 0, let pointer else { return length == 0 }
        return memcmp(pointer, literal.utf8Start, length) == 0
    }

    /// Calls `body` with each key (raw UTF-8, valid only during the call) and value. False when
    /// this is not an object.
    @discardableResult
    func forEachField(_ body: (UnsafeRawBufferPointer, JSONValue) throws(IngestError) -> Void) throws(IngestError) -> Bool {
        var iterator = rs_json_iter()
        guard rs_json_object_iter(ref, &iterator) else { return false }
        var key: UnsafePointer<UInt8>?
        var length = 0
        var value = rs_json_ref()
        while rs_json_object_next(&iterator, &key, &length, &value) {
            // SAFETY: the key bytes live in the document for the duration of the call.
            try body(UnsafeRawBufferPointer(start: key, count: length), JSONValue(ref: value))
        }
        return true
    }

    /// The value of the first field named `name`, scanning keys in order (no allocation).
    func field(_ name: StaticString) -> JSONValue? {
        var iterator = rs_json_iter()
        guard rs_json_object_iter(ref, &iterator) else { return nil }
        var key: UnsafePointer<UInt8>?
        var length = 0
        var value = rs_json_ref()
        while rs_json_object_next(&iterator, &key, &length, &value) {
            // SAFETY: the key bytes live in the document for the duration of the call.
            if keyIs(UnsafeRawBufferPointer(start: key, count: length), name) { return JSONValue(ref: value) }
        }
        return nil
    }

    /// Calls `body` with each element and its index. False when this is not an array.
    @discardableResult
    func forEachElement(_ body: (Int, JSONValue) throws(IngestError) -> Void) throws(IngestError) -> Bool {
        var iterator = rs_json_iter()
        guard rs_json_array_iter(ref, &iterator) else { return false }
        var value = rs_json_ref()
        var index = 0
        while rs_json_array_next(&iterator, &value) {
            try body(index, JSONValue(ref: value))
            index += 1
        }
        return true
    }
}

/// Compares a raw key with a literal.
@inline(__always)
func keyIs(_ key: UnsafeRawBufferPointer, _ literal: StaticString) -> Bool {
    // SAFETY: both buffers are valid for `key.count` bytes during this call.
    guard key.count == literal.utf8CodeUnitCount else { return false }
    guard let base = key.baseAddress, key.count > 0 else { return true }
    return memcmp(base, literal.utf8Start, key.count) == 0
}

#if canImport(Glibc)
import Glibc
#endif

/// Whether bytes are one well-formed JSON document (simdjson), for checks on what we write.
public enum JSONValidation {
    public static func isValid(_ bytes: [UInt8], maxDepth: Int = 64) -> Bool {
        // The answer is the Bool: the parse error itself is what "false" means (ignore its detail).
        bytes.withUnsafeBytes { buffer in (try? JSONValue.parse(buffer, maxDepth: maxDepth) { _ throws(IngestError) in true }) ?? false }  // ignore: see above
    }
}
