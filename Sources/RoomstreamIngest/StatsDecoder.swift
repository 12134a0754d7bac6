import CSimdjson
import RoomstreamCore

/// Extracts the stats objects the figures use from a `getStats()` report: an array
/// (`Array.from(report.values())`) or an object keyed by id. The walk over the report's
/// objects and fields runs in the C++ shim (`rs_json_extract_stats`), which keeps only the
/// types and fields below; unknown types and fields are skipped, a field of an unexpected type
/// counts as missing, and nothing the browser sends is rejected except a non-object entry.
enum StatsDecoder {
    /// `field` names the report in errors (made only for one).
    static func report(_ value: JSONValue, field: () -> String, limits: IngestLimits) throws(IngestError) -> StatsReport {
        guard value.isArray || value.isObject else {
            throw .invalidField(field: field(), problem: "must be an array of stats objects or an object keyed by id")
        }
        var count = 0
        var badIndex = -1
        var start: UnsafePointer<rs_stats_object>?
        let written = rs_json_extract_stats(value.ref, limits.maxStatsPerSample, &count, &badIndex, &start)
        // SAFETY: the shim's per-thread buffer holds `written` initialized objects until this
        // thread's next extraction; they are copied into the report below, before any.
        let objects = UnsafeBufferPointer(start: start, count: written)
        if count > limits.maxStatsPerSample { throw .tooMany(field: field(), limit: limits.maxStatsPerSample) }
        if badIndex >= 0 {
            throw .invalidField(field: value.isArray ? "\(field())[\(badIndex)]" : "\(field()) (entry \(badIndex))", problem: "must be a stats object")
        }
        var report = StatsReport()
        report.reserveCapacity(for: objects)
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

    // Plausible ranges, checked where numbers enter (W3C webrtc-stats types; metrics.md
    // "Garbage and resets"). A value outside its range is garbage a client sent and counts as
    // missing, exactly like an absent field: it never reaches a figure.
    /// 2^53: the largest integer a Double (and a JavaScript number) holds exactly.
    static let maxCounter = 9_007_199_254_740_992.0
    /// `unsigned long long` counters (bytes, packets, emitted samples).
    static func counter(_ value: Double) -> Double? { value >= 0 && value <= maxCounter ? value : nil }
    /// `packetsLost` is a `long long`: duplicates can make it negative.
    static func signedCounter(_ value: Double) -> Double? { abs(value) <= maxCounter ? value : nil }
    /// Jitter and round-trip times, seconds: a minute is already far outside any call.
    static func shortSeconds(_ value: Double) -> Double? { value >= 0 && value <= 60 ? value : nil }
    /// Cumulative seconds (jitter-buffer delay, total round-trip time): at most ~300 years.
    static func cumulativeSeconds(_ value: Double) -> Double? { value >= 0 && value <= 1e10 ? value : nil }
    /// Frame width or height, pixels.
    static func pixels(_ value: Double) -> Double? { value >= 0 && value <= 65_535 ? value : nil }
    /// DOMHighResTimeStamp, ms since the epoch, in the range the batch's own timestamps have.
    static func timestamp(_ value: Double) -> Double? { value >= 0 && value <= 1e14 ? value : nil }
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
        let timestamp = timestamp(o.timestamp)
        switch o.type {
        case RS_STATS_OUTBOUND_RTP:
            guard let media = mediaKind(o), let timestamp else { return }
            report.outbound.append(OutboundRTP(id: id, timestamp: timestamp, kind: media, bytesSent: counter(o.bytes_sent), packetsSent: counter(o.packets_sent), codecId: string(o.codec_id)))
        case RS_STATS_INBOUND_RTP:
            guard let media = mediaKind(o), let timestamp else { return }
            var stream = InboundRTP(id: id, timestamp: timestamp, kind: media)
            stream.bytesReceived = counter(o.bytes_received)
            stream.packetsReceived = counter(o.packets_received)
            stream.packetsLost = signedCounter(o.packets_lost)
            stream.jitter = shortSeconds(o.jitter)
            stream.jitterBufferDelay = cumulativeSeconds(o.jitter_buffer_delay)
            stream.jitterBufferEmittedCount = counter(o.jitter_buffer_emitted_count)
            stream.codecId = string(o.codec_id)
            stream.frameWidth = pixels(o.frame_width)
            stream.frameHeight = pixels(o.frame_height)
            report.inbound.append(stream)
        case RS_STATS_REMOTE_INBOUND_RTP:
            guard let media = mediaKind(o) else { return }
            var stream = RemoteInboundRTP(id: id, timestamp: timestamp ?? 0, kind: media)
            stream.localId = string(o.local_id)
            stream.packetsLost = signedCounter(o.packets_lost)
            stream.jitter = shortSeconds(o.jitter)
            stream.roundTripTime = shortSeconds(o.round_trip_time)
            stream.roundTripTimeMeasurements = counter(o.round_trip_time_measurements)
            stream.totalRoundTripTime = cumulativeSeconds(o.total_round_trip_time)
            report.remoteInbound.append(stream)
        case RS_STATS_CANDIDATE_PAIR:
            var pair = CandidatePair(id: id, timestamp: timestamp ?? 0)
            pair.selected = bool(o.selected)
            pair.nominated = bool(o.nominated)
            pair.state = string(o.state)
            pair.localCandidateId = string(o.local_candidate_id)
            pair.currentRoundTripTime = shortSeconds(o.current_round_trip_time)
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

extension StatsReport {
    /// Each list sized once for the objects of its type (appends grew them 1, 2, 4, …).
    mutating func reserveCapacity(for objects: UnsafeBufferPointer<rs_stats_object>) {
        var counts = (outbound: 0, inbound: 0, remoteInbound: 0, pairs: 0, local: 0, transports: 0, codecs: 0)
        for object in objects {
            switch object.type {
            case RS_STATS_OUTBOUND_RTP: counts.outbound += 1
            case RS_STATS_INBOUND_RTP: counts.inbound += 1
            case RS_STATS_REMOTE_INBOUND_RTP: counts.remoteInbound += 1
            case RS_STATS_CANDIDATE_PAIR: counts.pairs += 1
            case RS_STATS_LOCAL_CANDIDATE: counts.local += 1
            case RS_STATS_TRANSPORT: counts.transports += 1
            case RS_STATS_CODEC: counts.codecs += 1
            default: break
            }
        }
        outbound.reserveCapacity(counts.outbound)
        inbound.reserveCapacity(counts.inbound)
        remoteInbound.reserveCapacity(counts.remoteInbound)
        candidatePairs.reserveCapacity(counts.pairs)
        localCandidates.reserveCapacity(counts.local)
        transports.reserveCapacity(counts.transports)
        codecs.reserveCapacity(counts.codecs)
    }
}
