/// One change to the registry as the write-ahead log stores it: replaying the records after a
/// checkpoint, in order, repeats exactly what the live registry did (the inputs and their
/// arrival times are recorded, so the same code gives the same accumulators).
public enum RegistryLogRecord: Sendable, Equatable {
    /// An accepted `…/samples` request: the decoded batch, not the raw body.
    case ingest(roomID: String, peerID: String, batch: IngestBatch, arrival: Double, userAgent: String?)
    /// `POST …/leave` for a peer in a live room.
    case leave(roomID: String, peerID: String, arrival: Double)
    /// An expiry pass that visited at least one room (peers may have timed out, rooms ended).
    case expire(now: Double)
    /// Ended rooms released after every stream sealed them (they no longer mark items late).
    case release(endedBefore: Double)

    enum Tag: UInt8 {
        /// `ingest` as written before locations (still replayed: location nil).
        case ingestWithoutLocation = 1
        case leave = 2, expire = 3, release = 4
        /// `ingest` with the batch's location after the user agent.
        case ingest = 5
    }

    /// The record's bytes (the log adds length, checksum and sequence number around them).
    public func encoded() -> [UInt8] {
        // An ingest record of one Chrome sample is about 1.1 KB: one allocation, no regrowth.
        var writer = BinaryWriter(reservingCapacity: 2048)
        switch self {
        case .ingest(let roomID, let peerID, let batch, let arrival, let userAgent):
            writer.u8(Tag.ingest.rawValue)
            writer.string(roomID)
            writer.string(peerID)
            writer.double(arrival)
            writer.optionalString(userAgent)
            writer.optional(batch.location) { writer, location in
                writer.optionalString(location.city)
                writer.optionalString(location.country)
                writer.optionalString(location.organization)
            }
            batch.encode(into: &writer)
        case .leave(let roomID, let peerID, let arrival):
            writer.u8(Tag.leave.rawValue)
            writer.string(roomID)
            writer.string(peerID)
            writer.double(arrival)
        case .expire(let now):
            writer.u8(Tag.expire.rawValue)
            writer.double(now)
        case .release(let time):
            writer.u8(Tag.release.rawValue)
            writer.double(time)
        }
        return writer.bytes
    }

    public static func decode(_ bytes: ArraySlice<UInt8>) throws(BinaryReader.Truncated) -> RegistryLogRecord {
        var reader = BinaryReader(bytes)
        let record: RegistryLogRecord
        let tag = Tag(rawValue: try reader.u8())
        switch tag {
        case .ingest, .ingestWithoutLocation:
            let roomID = try reader.string(), peerID = try reader.string(), arrival = try reader.double()
            let userAgent = try reader.optionalString()
            var location: PeerLocation?
            if tag == .ingest, try reader.present() {
                location = PeerLocation(city: try reader.optionalString(), country: try reader.optionalString(), organization: try reader.optionalString())
            }
            var batch = try IngestBatch.decode(&reader)
            batch.location = location
            record = .ingest(roomID: roomID, peerID: peerID, batch: batch, arrival: arrival, userAgent: userAgent)
        case .leave:
            record = .leave(roomID: try reader.string(), peerID: try reader.string(), arrival: try reader.double())
        case .expire:
            record = .expire(now: try reader.double())
        case .release:
            record = .release(endedBefore: try reader.double())
        case nil:
            throw BinaryReader.Truncated()
        }
        guard reader.isAtEnd else { throw BinaryReader.Truncated() }
        return record
    }
}

/// Where the registry records its changes. `append` is called with the registry's lock held,
/// in the order the changes were applied, so the log's order is the registry's; it must only
/// copy the bytes into memory (the writing and syncing happen elsewhere).
public protocol RegistryLog: Sendable {
    /// Queues a record and returns its log sequence number (LSN), increasing by one per record.
    func append(_ record: [UInt8]) -> UInt64
    /// The LSN of the last record appended (0 before any).
    var lastAppended: UInt64 { get }
}

extension IngestBatch {
    func encode(into writer: inout BinaryWriter) {
        writer.optionalString(sdkVersion)
        writer.optionalString(userAgent)
        writer.array(keys) { writer, key in
            writer.string(key.name)
            switch key.value {
            case .string(let text):
                writer.u8(0)
                writer.string(text)
            case .strings(let texts):
                writer.u8(1)
                writer.array(texts) { $0.string($1) }
            }
        }
        writer.optionalString(audioDevice)
        writer.optionalString(videoDevice)
        writer.optional(userRating) { $0.i64(Int64($1)) }
        writer.array(events) { writer, event in
            writer.double(event.ts)
            writer.optionalString(event.pc)
            switch event.kind {
            case .pcCreated: writer.u8(0)
            case .connectionState(let state):
                writer.u8(1)
                writer.string(state)
            case .iceConnectionState(let state):
                writer.u8(2)
                writer.string(state)
            case .leave: writer.u8(3)
            case .other: writer.u8(4)
            }
        }
        writer.array(samples) { writer, sample in
            writer.i64(sample.seq)
            writer.double(sample.ts)
            writer.string(sample.pc)
            sample.report.encode(into: &writer)
        }
    }

    static func decode(_ reader: inout BinaryReader) throws(BinaryReader.Truncated) -> IngestBatch {
        var batch = IngestBatch()
        batch.sdkVersion = try reader.optionalString()
        batch.userAgent = try reader.optionalString()
        batch.keys = try reader.array { reader throws(BinaryReader.Truncated) in
            let name = try reader.string()
            switch try reader.u8() {
            case 0: return (name, KeyValue.string(try reader.string()))
            case 1: return (name, KeyValue.strings(try reader.array { reader throws(BinaryReader.Truncated) in try reader.string() }))
            default: throw BinaryReader.Truncated()
            }
        }
        batch.audioDevice = try reader.optionalString()
        batch.videoDevice = try reader.optionalString()
        if try reader.present() {
            guard let rating = Int(exactly: try reader.i64()) else { throw BinaryReader.Truncated() }
            batch.userRating = rating
        }
        batch.events = try reader.array { reader throws(BinaryReader.Truncated) in
            let ts = try reader.double()
            let pc = try reader.optionalString()
            let kind: Event.Kind
            switch try reader.u8() {
            case 0: kind = .pcCreated
            case 1: kind = .connectionState(try reader.string())
            case 2: kind = .iceConnectionState(try reader.string())
            case 3: kind = .leave
            case 4: kind = .other
            default: throw BinaryReader.Truncated()
            }
            return Event(ts: ts, kind: kind, pc: pc)
        }
        batch.samples = try reader.array { reader throws(BinaryReader.Truncated) in
            Sample(seq: try reader.i64(), ts: try reader.double(), pc: try reader.string(), report: try StatsReport.decode(&reader))
        }
        return batch
    }
}

extension MediaKind {
    static func decode(_ reader: inout BinaryReader) throws(BinaryReader.Truncated) -> MediaKind {
        guard let kind = MediaKind(rawValue: Int(try reader.u8())) else { throw BinaryReader.Truncated() }
        return kind
    }
}

extension StatsReport {
    func encode(into writer: inout BinaryWriter) {
        writer.array(outbound) { w, s in
            w.string(s.id); w.double(s.timestamp); w.u8(UInt8(s.kind.rawValue))
            w.optionalDouble(s.bytesSent); w.optionalDouble(s.packetsSent); w.optionalString(s.codecId)
        }
        writer.array(inbound) { w, s in
            w.string(s.id); w.double(s.timestamp); w.u8(UInt8(s.kind.rawValue))
            w.optionalDouble(s.bytesReceived); w.optionalDouble(s.packetsReceived); w.optionalDouble(s.packetsLost)
            w.optionalDouble(s.jitter); w.optionalDouble(s.jitterBufferDelay); w.optionalDouble(s.jitterBufferEmittedCount)
            w.optionalString(s.codecId); w.optionalDouble(s.frameWidth); w.optionalDouble(s.frameHeight)
        }
        writer.array(remoteInbound) { w, s in
            w.string(s.id); w.double(s.timestamp); w.u8(UInt8(s.kind.rawValue))
            w.optionalString(s.localId); w.optionalDouble(s.packetsLost); w.optionalDouble(s.jitter)
            w.optionalDouble(s.roundTripTime); w.optionalDouble(s.roundTripTimeMeasurements); w.optionalDouble(s.totalRoundTripTime)
        }
        writer.array(candidatePairs) { w, p in
            w.string(p.id); w.double(p.timestamp)
            w.optional(p.selected) { $0.u8($1 ? 1 : 0) }; w.optional(p.nominated) { $0.u8($1 ? 1 : 0) }
            w.optionalString(p.state); w.optionalString(p.localCandidateId); w.optionalDouble(p.currentRoundTripTime)
        }
        writer.array(localCandidates) { w, c in
            w.string(c.id); w.optionalString(c.candidateType); w.optionalString(c.relayProtocol)
            w.optionalString(c.networkProtocol); w.optionalString(c.url)
        }
        writer.array(transports) { w, t in w.string(t.id); w.optionalString(t.selectedCandidatePairId) }
        writer.array(codecs) { w, c in w.string(c.id); w.optionalString(c.mimeType) }
    }

    static func decode(_ reader: inout BinaryReader) throws(BinaryReader.Truncated) -> StatsReport {
        func bool(_ r: inout BinaryReader) throws(BinaryReader.Truncated) -> Bool? {
            guard try r.present() else { return nil }
            switch try r.u8() {
            case 0: return false
            case 1: return true
            default: throw BinaryReader.Truncated()
            }
        }
        var report = StatsReport()
        report.outbound = try reader.array { r throws(BinaryReader.Truncated) in
            OutboundRTP(id: try r.string(), timestamp: try r.double(), kind: try MediaKind.decode(&r),
                        bytesSent: try r.optionalDouble(), packetsSent: try r.optionalDouble(), codecId: try r.optionalString())
        }
        report.inbound = try reader.array { r throws(BinaryReader.Truncated) in
            var s = InboundRTP(id: try r.string(), timestamp: try r.double(), kind: try MediaKind.decode(&r))
            s.bytesReceived = try r.optionalDouble(); s.packetsReceived = try r.optionalDouble(); s.packetsLost = try r.optionalDouble()
            s.jitter = try r.optionalDouble(); s.jitterBufferDelay = try r.optionalDouble(); s.jitterBufferEmittedCount = try r.optionalDouble()
            s.codecId = try r.optionalString(); s.frameWidth = try r.optionalDouble(); s.frameHeight = try r.optionalDouble()
            return s
        }
        report.remoteInbound = try reader.array { r throws(BinaryReader.Truncated) in
            var s = RemoteInboundRTP(id: try r.string(), timestamp: try r.double(), kind: try MediaKind.decode(&r))
            s.localId = try r.optionalString(); s.packetsLost = try r.optionalDouble(); s.jitter = try r.optionalDouble()
            s.roundTripTime = try r.optionalDouble(); s.roundTripTimeMeasurements = try r.optionalDouble(); s.totalRoundTripTime = try r.optionalDouble()
            return s
        }
        report.candidatePairs = try reader.array { r throws(BinaryReader.Truncated) in
            var p = CandidatePair(id: try r.string(), timestamp: try r.double())
            p.selected = try bool(&r); p.nominated = try bool(&r)
            p.state = try r.optionalString(); p.localCandidateId = try r.optionalString(); p.currentRoundTripTime = try r.optionalDouble()
            return p
        }
        report.localCandidates = try reader.array { r throws(BinaryReader.Truncated) in
            var c = LocalCandidate(id: try r.string())
            c.candidateType = try r.optionalString(); c.relayProtocol = try r.optionalString()
            c.networkProtocol = try r.optionalString(); c.url = try r.optionalString()
            return c
        }
        report.transports = try reader.array { r throws(BinaryReader.Truncated) in
            var t = Transport(id: try r.string())
            t.selectedCandidatePairId = try r.optionalString()
            return t
        }
        report.codecs = try reader.array { r throws(BinaryReader.Truncated) in
            var c = Codec(id: try r.string())
            c.mimeType = try r.optionalString()
            return c
        }
        return report
    }
}
