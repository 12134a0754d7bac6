@_exported import RoomstreamBasics

/// Builds the data-stream room record (room-record.md, format v1): the same keys, nesting,
/// units and rounding, `null` for every unknown value, the same schema for every element.
public enum RoomRecord {
    /// Round half away from zero to `decimals` places.
    public static func round(_ value: Double, decimals: Int) -> Double {
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        return (value * scale).rounded(.toNearestOrAwayFromZero) / scale
    }

    /// JSON for one room. `state` adds `"state": "live"|"ended"` for the query API; data
    /// stream files omit it.
    public static func json(_ room: Room, publicURL: String, includeState: Bool = false) -> String {
        var out = JSONWriter()
        write(room, publicURL: publicURL, includeState: includeState, to: &out)
        return out.text
    }

    public static func write(_ room: Room, publicURL: String, includeState: Bool, to out: inout JSONWriter) {
        let start = room.startTime ?? 0
        let end = room.endTime ?? room.lastActivity ?? start
        let startText = ISO8601Milliseconds.format(start)
        let peers = room.orderedPeers
        let figures = peers.map(\.figures)
        out.beginObject()
        out.key("room_url"); out.string("\(publicURL)/v1/rooms/\(TextFormat.percentEncode(room.id))?start=\(TextFormat.percentEncode(startText))")
        out.key("room_id"); out.string(room.id)
        out.key("start_time"); out.string(startText)
        out.key("end_time"); out.string(ISO8601Milliseconds.format(end))
        out.key("duration"); out.integer((end - start) / 1000)
        out.key("users"); out.number(Double(peers.count), decimals: 0)
        if includeState { out.key("state"); out.string(room.isLive ? "live" : "ended") }
        out.key("stats")
        out.beginObject()
        out.key("mos"); out.number(mean(figures.map(\.mos)), decimals: 2)
        out.key("score"); out.number(mean(figures.map(\.score)), decimals: 1)
        let ratings = peers.reduce((0, 0)) { ($0.0 + $1.ratingSum, $0.1 + $1.ratingCount) }
        out.key("user"); out.number(ratings.1 > 0 ? Double(ratings.0) / Double(ratings.1) : nil, decimals: 1)
        out.key("call_setup_time"); out.integer(mean(figures.map(\.callSetupMilliseconds)))
        for (name, kind) in [("audio", \PeerFigures.audio), ("video", \PeerFigures.video)] {
            let kinds = figures.map { $0[keyPath: kind] }
            out.key(name)
            out.beginObject()
            out.key("send"); writeDirection(kinds.map(\.send), withRTT: true, peerLevel: nil, to: &out)
            out.key("recv"); writeDirection(kinds.map(\.recv), withRTT: false, peerLevel: nil, to: &out)
            out.key("bitrate"); out.integer(mean(kinds.map(\.bitrateKbps)))
            out.key("packet_loss"); out.number(mean(kinds.map(\.packetLossPercent)), decimals: 1)
            out.key("jitter"); out.integer(mean(kinds.map(\.jitterMilliseconds)))
            out.endObject()
        }
        out.endObject()
        out.key("peers")
        out.beginArray()
        for (peer, peerFigures) in zip(peers, figures) { writePeer(peer, peerFigures, to: &out) }
        out.endArray()
        out.endObject()
    }

    private enum PeerLevel { case audio, video }

    private static func writeDirection(_ values: [DirectionFigures], withRTT: Bool, peerLevel: PeerLevel?, to out: inout JSONWriter) {
        out.beginObject()
        if let peerLevel {
            out.key("mos"); out.number(mean(values.map(\.mos)), decimals: 2)
            if peerLevel == .audio { out.key("score"); out.number(mean(values.map(\.score)), decimals: 1) }
        }
        out.key("bitrate"); out.integer(mean(values.map(\.bitrateKbps)))
        out.key("packet_loss"); out.number(mean(values.map(\.packetLossPercent)), decimals: 1)
        out.key("jitter"); out.integer(mean(values.map(\.jitterMilliseconds)))
        if withRTT { out.key("rtt"); out.integer(mean(values.map(\.rttMilliseconds))) }
        out.endObject()
    }

    private static func writePeer(_ peer: Peer, _ figures: PeerFigures, to out: inout JSONWriter) {
        let agent = peer.agent ?? UserAgent()
        let start = peer.firstActivity ?? 0
        out.beginObject()
        out.key("peer_id"); out.string(peer.id)
        out.key("os"); out.optionalString(agent.os)
        out.key("os_version"); out.optionalString(agent.osVersion)
        out.key("browser"); out.optionalString(agent.browser)
        out.key("browser_version"); out.optionalString(agent.browserVersion)
        out.key("location")
        out.beginObject()
        out.key("city"); out.optionalString(peer.location?.city)
        out.key("country"); out.optionalString(peer.location?.country)
        out.key("organization"); out.optionalString(peer.location?.organization)
        out.endObject()
        out.key("sdk_version"); out.optionalString(peer.sdkVersion)
        out.key("start_time"); out.string(ISO8601Milliseconds.format(start))
        out.key("duration"); out.integer(peer.presenceSeconds)
        out.key("keys")
        out.beginObject()
        for name in peer.keyOrder {
            out.key(name)
            switch peer.keys[name] {
            case .string(let value)?: out.string(value)
            case .strings(let values)?:
                out.beginArray()
                for value in values { out.string(value) }
                out.endArray()
            case nil: out.null()
            }
        }
        out.endObject()
        out.key("features")
        out.beginObject()
        out.key("connection_type"); out.optionalString(peer.connectionType)
        out.key("media_transport"); out.optionalString(peer.mediaTransport)
        out.endObject()
        out.key("stats")
        out.beginObject()
        out.key("mos"); out.number(figures.mos, decimals: 2)
        out.key("score"); out.number(figures.score, decimals: 1)
        out.key("call_setup_time"); out.integer(figures.callSetupMilliseconds)
        for (name, kind, level) in [("audio", figures.audio, PeerLevel.audio), ("video", figures.video, PeerLevel.video)] {
            out.key(name)
            out.beginObject()
            out.key("send"); writeDirection([kind.send], withRTT: true, peerLevel: level, to: &out)
            out.key("recv"); writeDirection([kind.recv], withRTT: false, peerLevel: level, to: &out)
            out.key("bitrate"); out.integer(kind.bitrateKbps)
            out.key("packet_loss"); out.number(kind.packetLossPercent, decimals: 1)
            out.key("jitter"); out.integer(kind.jitterMilliseconds)
            out.endObject()
        }
        out.endObject()
        out.key("audio_device"); out.optionalString(peer.audioDevice)
        out.key("video_device"); out.optionalString(peer.videoDevice)
        out.endObject()
    }
}

/// UTC timestamps with milliseconds, e.g. `2022-09-04T00:09:22.885Z`.
public enum ISO8601Milliseconds {
    /// Valid for years 0000–9999; a time outside (which validation keeps out) is clamped to
    /// that range rather than trapping.
    public static func format(_ epochMilliseconds: Double) -> String {
        let bounded = epochMilliseconds.isFinite ? min(max(epochMilliseconds, -62_167_219_200_000), 253_402_300_799_999) : 0
        let millisTotal = Int(bounded.rounded(.toNearestOrAwayFromZero))
        let seconds = millisTotal >= 0 ? millisTotal / 1000 : (millisTotal - 999) / 1000
        let millis = millisTotal - seconds * 1000
        let (days, secondOfDay) = CivilDate.split(epochSeconds: seconds)
        let (year, month, day) = CivilDate.from(daysSinceEpoch: days)
        func pad(_ n: Int, _ width: Int) -> String { TextFormat.padded(n, width: width) }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(secondOfDay / 3600, 2)):\(pad(secondOfDay / 60 % 60, 2)):\(pad(secondOfDay % 60, 2)).\(pad(millis, 3))Z"
    }

    /// Parses the format above back to epoch ms; nil when it does not match.
    public static func parse(_ text: String) -> Double? {
        let bytes = Array(text.utf8)
        guard bytes.count == 24, bytes[4] == 0x2D, bytes[7] == 0x2D, bytes[10] == 0x54, bytes[13] == 0x3A,
              bytes[16] == 0x3A, bytes[19] == 0x2E, bytes[23] == 0x5A else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for index in range {
                guard bytes[index] >= 0x30 && bytes[index] <= 0x39 else { return nil }
                value = value * 10 + Int(bytes[index] - 0x30)
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10), let hour = number(11..<13),
              let minute = number(14..<16), let second = number(17..<19), let millis = number(20..<23),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 60 else { return nil }
        let days = CivilDate.daysSinceEpoch(year: year, month: month, day: day)
        return Double(((days * 24 + hour) * 60 + minute) * 60 + second) * 1000 + Double(millis)
    }
}
