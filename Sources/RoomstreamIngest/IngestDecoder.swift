import CSimdjson
import RoomstreamCore

/// Bounds on one request body, each with its own error naming the field.
public struct IngestLimits: Sendable, Equatable {
    public var maxEvents = 1000
    public var maxSamples = 600
    public var maxStatsPerSample = 5000
    public var maxKeys = 64
    public var maxKeyValues = 32
    public var maxStringBytes = 1024
    public var maxNesting = 64
    /// Client timestamps are epoch ms in [0, 10^14) (before the year 5138)...
    public var maxTimestamp: Double = 1e14
    /// ...and one request's items span at most this long (a day of batched samples).
    public var maxTimestampSpanMilliseconds: Double = 86_400_000
    public init() {}
}

/// Decodes an ingest request body (ingest-api.md) with simdjson into an `IngestBatch`.
/// Wrong types in the SDK's own fields are errors naming the field; the browser's stats
/// objects are never rejected: unknown types and fields are skipped, and a stats field of an
/// unexpected type is treated as missing.
public enum IngestDecoder {
    /// `readableSlackBytes`: bytes allocated and readable past `body` (see `JSONValue.parse`).
    public static func decode(_ body: UnsafeRawBufferPointer, readableSlackBytes: Int = 0, limits: IngestLimits = IngestLimits()) throws(IngestError) -> IngestBatch {
        try JSONValue.parse(body, readableSlackBytes: readableSlackBytes, maxDepth: limits.maxNesting) { root throws(IngestError) in
            guard root.isObject else { throw .invalidField(field: "body", problem: "must be a JSON object") }
            var batch = IngestBatch()
            try root.forEachField { key, value throws(IngestError) in
                if keyIs(key, "sdk_version") { batch.sdkVersion = try string(value, "sdk_version", limits) }
                else if keyIs(key, "user_agent") { batch.userAgent = try string(value, "user_agent", limits) }
                else if keyIs(key, "audio_device") { batch.audioDevice = try string(value, "audio_device", limits) }
                else if keyIs(key, "video_device") { batch.videoDevice = try string(value, "video_device", limits) }
                else if keyIs(key, "user_rating") {
                    guard !value.isNull else { return }
                    guard let rating = value.integer, (1...5).contains(rating) else {
                        throw .invalidField(field: "user_rating", problem: "must be an integer from 1 to 5")
                    }
                    batch.userRating = Int(rating)
                }
                else if keyIs(key, "keys") { batch.keys = try keys(value, limits) }
                else if keyIs(key, "events") { batch.events = try events(value, limits) }
                else if keyIs(key, "samples") { batch.samples = try samples(value, limits) }
                // Other top-level keys: ignored, for forward compatibility.
            }
            try checkTimestamps(batch, limits)
            return batch
        }
    }

    public static func decode(_ body: [UInt8], limits: IngestLimits = IngestLimits()) throws(IngestError) -> IngestBatch {
        do {
            // An array's spare capacity is allocated: a gzip body inflated with room to spare
            // is parsed in place.
            let slack = body.capacity - body.count
            return try body.withUnsafeBytes { bytes in try decode(bytes, readableSlackBytes: slack, limits: limits) }
        } catch let error as IngestError {
            throw error
        } catch {
            throw .malformedJSON("\(error)")
        }
    }

    /// Timestamps are placed on the service clock relative to the request's latest one, so
    /// absurd values (or a request spanning more than a day) are rejected with the field named.
    static func checkTimestamps(_ batch: IngestBatch, _ limits: IngestLimits) throws(IngestError) {
        // Field names are formatted only for an error (one per item for every request cost
        // 1 % of ingest CPU).
        func field(_ index: Int) -> String {
            index < batch.events.count ? "events[\(index)].ts" : "samples[\(index - batch.events.count)].ts"
        }
        func forEachTimestamp(_ body: (Int, Double) throws(IngestError) -> Void) throws(IngestError) {
            for (index, event) in batch.events.enumerated() { try body(index, event.ts) }
            for (index, sample) in batch.samples.enumerated() { try body(batch.events.count + index, sample.ts) }
        }
        var latest = -Double.infinity
        try forEachTimestamp { index, ts throws(IngestError) in
            guard (0..<limits.maxTimestamp).contains(ts) else {
                throw .invalidField(field: field(index), problem: "must be epoch milliseconds from 0 to 10^14")
            }
            latest = max(latest, ts)
        }
        try forEachTimestamp { index, ts throws(IngestError) in
            if latest - ts > limits.maxTimestampSpanMilliseconds {
                throw .invalidField(field: field(index), problem: "is more than 24 hours before the request's latest timestamp")
            }
        }
    }

    // MARK: SDK fields (validated)

    static func string(_ value: JSONValue, _ field: String, _ limits: IngestLimits) throws(IngestError) -> String? {
        if value.isNull { return nil }
        guard let string = value.string else { throw .invalidField(field: field, problem: "must be a string") }
        guard string.utf8.count <= limits.maxStringBytes else {
            throw .invalidField(field: field, problem: "longer than \(limits.maxStringBytes) bytes")
        }
        return string
    }

    static func keys(_ value: JSONValue, _ limits: IngestLimits) throws(IngestError) -> [(name: String, value: IngestBatch.KeyValue)] {
        guard value.isObject else { throw .invalidField(field: "keys", problem: "must be an object of strings or arrays of strings") }
        var result: [(name: String, value: IngestBatch.KeyValue)] = []
        try value.forEachField { rawKey, item throws(IngestError) in
            let name = String(decoding: rawKey, as: UTF8.self)
            let field = "keys.\(name)"
            guard result.count < limits.maxKeys else { throw .tooMany(field: "keys", limit: limits.maxKeys) }
            guard !name.isEmpty, name.utf8.count <= 256 else { throw .invalidField(field: field, problem: "key names must be 1-256 bytes") }
            if item.isArray {
                var strings: [String] = []
                try item.forEachElement { index, element throws(IngestError) in
                    guard strings.count < limits.maxKeyValues else { throw .tooMany(field: field, limit: limits.maxKeyValues) }
                    guard let string = try self.string(element, "\(field)[\(index)]", limits) else {
                        throw .invalidField(field: "\(field)[\(index)]", problem: "must be a string")
                    }
                    strings.append(string)
                }
                result.append((name, .strings(strings)))
            } else {
                guard item.type == RS_JSON_STRING, let string = try self.string(item, field, limits) else {
                    throw .invalidField(field: field, problem: "must be a string or an array of strings")
                }
                result.append((name, .string(string)))
            }
        }
        return result
    }

    static func events(_ value: JSONValue, _ limits: IngestLimits) throws(IngestError) -> [IngestBatch.Event] {
        var events: [IngestBatch.Event] = []
        let isArray = try value.forEachElement { index, item throws(IngestError) in
            let field = "events[\(index)]"
            guard events.count < limits.maxEvents else { throw .tooMany(field: "events", limit: limits.maxEvents) }
            guard item.isObject else { throw .invalidField(field: field, problem: "must be an object") }
            guard let ts = item.field("ts")?.number, ts.isFinite else { throw .invalidField(field: "\(field).ts", problem: "must be a number (epoch ms)") }
            guard let typeValue = item.field("type"), let type = typeValue.string else {
                throw .invalidField(field: "\(field).type", problem: "must be a string")
            }
            let pc = try item.field("pc").flatMap { v throws(IngestError) in try string(v, "\(field).pc", limits) }
            let state = try item.field("state").flatMap { v throws(IngestError) in try string(v, "\(field).state", limits) }
            let kind: IngestBatch.Event.Kind
            switch type {
            case "pc_created": kind = .pcCreated
            case "connection_state", "ice_connection_state":
                guard let state else { throw .invalidField(field: "\(field).state", problem: "must be a string for \(type)") }
                kind = type == "connection_state" ? .connectionState(state) : .iceConnectionState(state)
            case "leave": kind = .leave
            default: kind = .other
            }
            events.append(IngestBatch.Event(ts: ts, kind: kind, pc: pc))
        }
        guard isArray || value.isNull else { throw .invalidField(field: "events", problem: "must be an array") }
        return events
    }

    static func samples(_ value: JSONValue, _ limits: IngestLimits) throws(IngestError) -> [IngestBatch.Sample] {
        var samples: [IngestBatch.Sample] = []
        let isArray = try value.forEachElement { index, item throws(IngestError) in
            // Formatted only for an error: two interpolations per sample showed in the profile.
            var field: String { "samples[\(index)]" }
            guard samples.count < limits.maxSamples else { throw .tooMany(field: "samples", limit: limits.maxSamples) }
            guard item.isObject else { throw .invalidField(field: field, problem: "must be an object") }
            var seq: Int64?, ts: Double?, pc: String?
            var report = StatsReport()
            var sawStats = false
            try item.forEachField { key, member throws(IngestError) in
                if keyIs(key, "seq") {
                    guard let number = member.integer, number >= 0 else { throw .invalidField(field: "\(field).seq", problem: "must be a non-negative integer") }
                    seq = number
                } else if keyIs(key, "ts") {
                    guard let number = member.number, number.isFinite else { throw .invalidField(field: "\(field).ts", problem: "must be a number (epoch ms)") }
                    ts = number
                } else if keyIs(key, "pc") {
                    guard let name = member.string, !name.isEmpty, name.utf8.count <= 256 else {
                        throw .invalidField(field: "\(field).pc", problem: "must be a string of 1-256 bytes")
                    }
                    pc = name
                } else if keyIs(key, "stats") {
                    sawStats = true
                    report = try StatsDecoder.report(member, field: { "\(field).stats" }, limits: limits)
                }
            }
            guard let seq else { throw .invalidField(field: "\(field).seq", problem: "is required") }
            guard let ts else { throw .invalidField(field: "\(field).ts", problem: "is required") }
            guard let pc else { throw .invalidField(field: "\(field).pc", problem: "is required") }
            guard sawStats else { throw .invalidField(field: "\(field).stats", problem: "is required") }
            samples.append(IngestBatch.Sample(seq: seq, ts: ts, pc: pc, report: report))
        }
        guard isArray || value.isNull else { throw .invalidField(field: "samples", problem: "must be an array") }
        return samples
    }
}
