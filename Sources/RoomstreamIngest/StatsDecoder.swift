import RoomstreamCore

/// Extracts the stats objects the figures use from a `getStats()` report: an array
/// (`Array.from(report.values())`) or an object keyed by id. Types it does not use are skipped
/// after reading their `type`; fields of a wrong type count as missing.
enum StatsDecoder {
    static func report(_ value: JSONValue, field: String, limits: IngestLimits) throws(IngestError) -> StatsReport {
        var report = StatsReport()
        var count = 0
        func visit(_ item: JSONValue, fallbackID: String?, path: @autoclosure () -> String) throws(IngestError) {
            count += 1
            guard count <= limits.maxStatsPerSample else { throw .tooMany(field: field, limit: limits.maxStatsPerSample) }
            guard item.isObject else { throw .invalidField(field: path(), problem: "must be a stats object") }
            add(item, fallbackID: fallbackID, to: &report)
        }
        if value.isArray {
            try value.forEachElement { index, item throws(IngestError) in try visit(item, fallbackID: nil, path: "\(field)[\(index)]") }
        } else if value.isObject {
            try value.forEachField { key, item throws(IngestError) in
                try visit(item, fallbackID: String(decoding: key, as: UTF8.self), path: "\(field).\(String(decoding: key, as: UTF8.self))")
            }
        } else {
            throw .invalidField(field: field, problem: "must be an array of stats objects or an object keyed by id")
        }
        return report
    }

    private enum Kind { case outbound, inbound, remoteInbound, candidatePair, localCandidate, transport, codec }

    private static func kind(of object: JSONValue) -> Kind? {
        guard let type = object.field("type") else { return nil }
        if type.stringEquals("outbound-rtp") { return .outbound }
        if type.stringEquals("inbound-rtp") { return .inbound }
        if type.stringEquals("remote-inbound-rtp") { return .remoteInbound }
        if type.stringEquals("candidate-pair") { return .candidatePair }
        if type.stringEquals("local-candidate") { return .localCandidate }
        if type.stringEquals("transport") { return .transport }
        if type.stringEquals("codec") { return .codec }
        return nil
    }

    /// The fields any of the used types may carry, read in one pass over the object.
    private struct Fields {
        var id: String?
        var timestamp: Double?
        var kind: MediaKind?
        var mediaType: MediaKind?
        var numbers: [Double?] = Array(repeating: nil, count: NumberField.allCases.count)
        var strings: [String?] = Array(repeating: nil, count: StringField.allCases.count)
        var selected: Bool?
        var nominated: Bool?

        subscript(_ field: NumberField) -> Double? { numbers[field.rawValue] }
        subscript(_ field: StringField) -> String? { strings[field.rawValue] }
    }

    private enum NumberField: Int, CaseIterable {
        case bytesSent, packetsSent, bytesReceived, packetsReceived, packetsLost, jitter, jitterBufferDelay,
             jitterBufferEmittedCount, frameWidth, frameHeight, roundTripTime, roundTripTimeMeasurements,
             totalRoundTripTime, currentRoundTripTime
    }

    private enum StringField: Int, CaseIterable {
        case codecId, localId, state, localCandidateId, candidateType, relayProtocol, networkProtocol, url,
             selectedCandidatePairId, mimeType
    }

    private static let numberKeys: [(StaticString, NumberField)] = [
        ("bytesSent", .bytesSent), ("packetsSent", .packetsSent), ("bytesReceived", .bytesReceived),
        ("packetsReceived", .packetsReceived), ("packetsLost", .packetsLost), ("jitter", .jitter),
        ("jitterBufferDelay", .jitterBufferDelay), ("jitterBufferEmittedCount", .jitterBufferEmittedCount),
        ("frameWidth", .frameWidth), ("frameHeight", .frameHeight), ("roundTripTime", .roundTripTime),
        ("roundTripTimeMeasurements", .roundTripTimeMeasurements), ("totalRoundTripTime", .totalRoundTripTime),
        ("currentRoundTripTime", .currentRoundTripTime),
    ]

    private static let stringKeys: [(StaticString, StringField)] = [
        ("codecId", .codecId), ("localId", .localId), ("state", .state), ("localCandidateId", .localCandidateId),
        ("candidateType", .candidateType), ("relayProtocol", .relayProtocol), ("protocol", .networkProtocol),
        ("url", .url), ("selectedCandidatePairId", .selectedCandidatePairId), ("mimeType", .mimeType),
    ]

    private static func mediaKind(_ value: JSONValue) -> MediaKind? {
        if value.stringEquals("audio") { return .audio }
        if value.stringEquals("video") { return .video }
        return nil
    }

    private static func fields(of object: JSONValue) -> Fields {
        var fields = Fields()
        // The keys are matched by length first: most of a stats object's keys are not ours.
        _ = try? object.forEachField { key, value throws(IngestError) in
            switch key.count {
            case 2 where keyIs(key, "id"): fields.id = value.string
            case 9 where keyIs(key, "timestamp"): fields.timestamp = value.number
            case 4 where keyIs(key, "kind"): fields.kind = mediaKind(value)
            case 9 where keyIs(key, "mediaType"): fields.mediaType = mediaKind(value)
            case 8 where keyIs(key, "selected"): fields.selected = value.bool
            case 9 where keyIs(key, "nominated"): fields.nominated = value.bool
            default:
                for (name, field) in numberKeys where keyIs(key, name) {
                    fields.numbers[field.rawValue] = value.number.flatMap { $0.isFinite ? $0 : nil }
                    return
                }
                for (name, field) in stringKeys where keyIs(key, name) {
                    fields.strings[field.rawValue] = value.string
                    return
                }
            }
        }
        return fields
    }

    private static func add(_ object: JSONValue, fallbackID: String?, to report: inout StatsReport) {
        guard let kind = kind(of: object) else { return }
        let f = fields(of: object)
        guard let id = f.id ?? fallbackID else { return }
        let timestamp = f.timestamp ?? 0
        switch kind {
        case .outbound:
            guard let media = f.kind ?? f.mediaType, f.timestamp != nil else { return }
            report.outbound.append(OutboundRTP(id: id, timestamp: timestamp, kind: media, bytesSent: f[.bytesSent], packetsSent: f[.packetsSent], codecId: f[.codecId]))
        case .inbound:
            guard let media = f.kind ?? f.mediaType, f.timestamp != nil else { return }
            var stream = InboundRTP(id: id, timestamp: timestamp, kind: media)
            stream.bytesReceived = f[.bytesReceived]
            stream.packetsReceived = f[.packetsReceived]
            stream.packetsLost = f[.packetsLost]
            stream.jitter = f[.jitter]
            stream.jitterBufferDelay = f[.jitterBufferDelay]
            stream.jitterBufferEmittedCount = f[.jitterBufferEmittedCount]
            stream.codecId = f[.codecId]
            stream.frameWidth = f[.frameWidth]
            stream.frameHeight = f[.frameHeight]
            report.inbound.append(stream)
        case .remoteInbound:
            guard let media = f.kind ?? f.mediaType else { return }
            var stream = RemoteInboundRTP(id: id, timestamp: timestamp, kind: media)
            stream.localId = f[.localId]
            stream.packetsLost = f[.packetsLost]
            stream.jitter = f[.jitter]
            stream.roundTripTime = f[.roundTripTime]
            stream.roundTripTimeMeasurements = f[.roundTripTimeMeasurements]
            stream.totalRoundTripTime = f[.totalRoundTripTime]
            report.remoteInbound.append(stream)
        case .candidatePair:
            var pair = CandidatePair(id: id, timestamp: timestamp)
            pair.selected = f.selected
            pair.nominated = f.nominated
            pair.state = f[.state]
            pair.localCandidateId = f[.localCandidateId]
            pair.currentRoundTripTime = f[.currentRoundTripTime]
            report.candidatePairs.append(pair)
        case .localCandidate:
            var candidate = LocalCandidate(id: id)
            candidate.candidateType = f[.candidateType]
            candidate.relayProtocol = f[.relayProtocol]
            candidate.networkProtocol = f[.networkProtocol]
            candidate.url = f[.url]
            report.localCandidates.append(candidate)
        case .transport:
            var transport = Transport(id: id)
            transport.selectedCandidatePairId = f[.selectedCandidatePairId]
            report.transports.append(transport)
        case .codec:
            var codec = Codec(id: id)
            codec.mimeType = f[.mimeType]
            report.codecs.append(codec)
        }
    }
}
