import CSimdjson
import RoomstreamCore

/// Extracts the stats objects the figures use from a `getStats()` report: an array
/// (`Array.from(report.values())`) or an object keyed by id. The walk over the report's
/// objects and fields runs in the C++ shim (`rs_json_extract_stats`), which keeps only the
/// types and fields below; unknown types and fields are skipped, a field of an unexpected type
/// counts as missing, and nothing the browser sends is rejected except a non-object entry.
enum StatsDecoder {
    /// Used objects kept per report; a report with more (no browser sends that many) keeps the first ones.
    static let maxUsedObjects = 128

    static func report(_ value: JSONValue, field: String, limits: IngestLimits) throws(IngestError) -> StatsReport {
        guard value.isArray || value.isObject else {
            throw .invalidField(field: field, problem: "must be an array of stats objects or an object keyed by id")
        }
        var count = 0
        var badIndex = -1
        // SAFETY: the shim initializes the first `written` elements, and only those are read.
        let objects = [rs_stats_object](unsafeUninitializedCapacity: maxUsedObjects) { buffer, initialized in
            initialized = rs_json_extract_stats(value.ref, buffer.baseAddress, buffer.count, limits.maxStatsPerSample, &count, &badIndex)
        }
        if count > limits.maxStatsPerSample { throw .tooMany(field: field, limit: limits.maxStatsPerSample) }
        if badIndex >= 0 {
            throw .invalidField(field: value.isArray ? "\(field)[\(badIndex)]" : "\(field) (entry \(badIndex))", problem: "must be a stats object")
        }
        var report = StatsReport()
        for object in objects { add(object, to: &report) }
        return report
    }

    private static func string(_ value: rs_json_str) -> String? {
        guard let bytes = value.bytes else { return nil }
        // SAFETY: the bytes live in the parsed document, which outlives this call.
        return String(decoding: UnsafeBufferPointer(start: bytes, count: value.length), as: UTF8.self)
    }

    private static func equals(_ value: rs_json_str, _ literal: StaticString) -> Bool {
        guard let bytes = value.bytes, value.length == literal.utf8CodeUnitCount else { return false }
        // SAFETY: both buffers hold `length` bytes during this call.
        return memcmp(bytes, literal.utf8Start, value.length) == 0
    }

    private static func number(_ value: Double) -> Double? { value.isNaN ? nil : value }
    private static func bool(_ value: Int8) -> Bool? { value < 0 ? nil : value == 1 }

    private static func mediaKind(_ o: rs_stats_object) -> MediaKind? {
        for value in [o.kind, o.media_type] {
            if equals(value, "audio") { return .audio }
            if equals(value, "video") { return .video }
        }
        return nil
    }

    private static func add(_ o: rs_stats_object, to report: inout StatsReport) {
        guard let id = string(o.id) else { return }
        let timestamp = number(o.timestamp)
        switch o.type {
        case RS_STATS_OUTBOUND_RTP:
            guard let media = mediaKind(o), let timestamp else { return }
            report.outbound.append(OutboundRTP(id: id, timestamp: timestamp, kind: media, bytesSent: number(o.bytes_sent), packetsSent: number(o.packets_sent), codecId: string(o.codec_id)))
        case RS_STATS_INBOUND_RTP:
            guard let media = mediaKind(o), let timestamp else { return }
            var stream = InboundRTP(id: id, timestamp: timestamp, kind: media)
            stream.bytesReceived = number(o.bytes_received)
            stream.packetsReceived = number(o.packets_received)
            stream.packetsLost = number(o.packets_lost)
            stream.jitter = number(o.jitter)
            stream.jitterBufferDelay = number(o.jitter_buffer_delay)
            stream.jitterBufferEmittedCount = number(o.jitter_buffer_emitted_count)
            stream.codecId = string(o.codec_id)
            stream.frameWidth = number(o.frame_width)
            stream.frameHeight = number(o.frame_height)
            report.inbound.append(stream)
        case RS_STATS_REMOTE_INBOUND_RTP:
            guard let media = mediaKind(o) else { return }
            var stream = RemoteInboundRTP(id: id, timestamp: timestamp ?? 0, kind: media)
            stream.localId = string(o.local_id)
            stream.packetsLost = number(o.packets_lost)
            stream.jitter = number(o.jitter)
            stream.roundTripTime = number(o.round_trip_time)
            stream.roundTripTimeMeasurements = number(o.round_trip_time_measurements)
            stream.totalRoundTripTime = number(o.total_round_trip_time)
            report.remoteInbound.append(stream)
        case RS_STATS_CANDIDATE_PAIR:
            var pair = CandidatePair(id: id, timestamp: timestamp ?? 0)
            pair.selected = bool(o.selected)
            pair.nominated = bool(o.nominated)
            pair.state = string(o.state)
            pair.localCandidateId = string(o.local_candidate_id)
            pair.currentRoundTripTime = number(o.current_round_trip_time)
            report.candidatePairs.append(pair)
        case RS_STATS_LOCAL_CANDIDATE:
            var candidate = LocalCandidate(id: id)
            candidate.candidateType = string(o.candidate_type)
            candidate.relayProtocol = string(o.relay_protocol)
            candidate.networkProtocol = string(o.protocol)
            candidate.url = string(o.url)
            report.localCandidates.append(candidate)
        case RS_STATS_TRANSPORT:
            var transport = Transport(id: id)
            transport.selectedCandidatePairId = string(o.selected_candidate_pair_id)
            report.transports.append(transport)
        case RS_STATS_CODEC:
            var codec = Codec(id: id)
            codec.mimeType = string(o.mime_type)
            report.codecs.append(codec)
        default:
            break
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
