#if canImport(Glibc)
import Glibc
#endif
import Foundation
import RoomstreamBasics
import Synchronization

/// `roomstream simulate`: rooms of peers posting realistic, Chrome-shaped `getStats()`
/// samples with growing counters, connection events, and a leave at the end.
public struct Simulator: Sendable {
    public struct Options: Sendable {
        public var url: String
        public var key: String
        public var rooms = 1
        public var peersPerRoom = 2
        public var durationSeconds = 10.0
        public var sampleIntervalSeconds = 1.0
        public var lossPercent = 0.0
        public var relay = false
        /// Connections (and threads) posting at once.
        public var concurrency = 8
        public var roomPrefix = "sim"

        public init(url: String, key: String) {
            self.url = url
            self.key = key
        }
    }

    public struct Summary: Sendable, CustomStringConvertible {
        public var requests = 0
        public var accepted = 0
        public var failures: [String: Int] = [:]
        public var seconds = 0.0
        public var description: String {
            let failed = failures.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
            return String(format: "%d requests in %.1f s (%.0f/s), %d accepted", requests, seconds, Double(requests) / max(seconds, 0.001), accepted)
                + (failed.isEmpty ? "" : "; failures: \(failed)")
        }
    }

    public let options: Options

    public init(options: Options) { self.options = options }

    /// Runs to completion; blocks the calling thread.
    public func run() throws -> Summary {
        _ = try SimpleHTTPClient(url: options.url)  // validate the URL before starting threads
        let peers = (0..<options.rooms).flatMap { room in
            (0..<options.peersPerRoom).map { SimulatedPeer(room: "\(options.roomPrefix)-\(room)", peer: "peer-\($0)", options: options) }
        }
        let workers = max(1, min(options.concurrency, peers.count))
        let summary = Locked(Summary())
        let started = Date()
        let group = DispatchGroup()
        for worker in 0..<workers {
            let mine = stride(from: worker, to: peers.count, by: workers).map { peers[$0] }
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                let local = Self.drive(mine, options: options, started: started)
                summary.withLock { total in
                    total.requests += local.requests
                    total.accepted += local.accepted
                    for (key, count) in local.failures { total.failures[key, default: 0] += count }
                }
            }
        }
        group.wait()
        var result = summary.withLock { $0 }
        result.seconds = Date().timeIntervalSince(started)
        return result
    }

    private static func drive(_ peers: [SimulatedPeer], options: Options, started: Date) -> Summary {
        var summary = Summary()
        // The URL was validated before the threads started (`run`); this cannot fail here.
        guard let client = try? SimpleHTTPClient(url: options.url) else { return summary }
        var peers = peers
        let headers = [("Authorization", "Bearer \(options.key)"), ("Content-Type", "application/json"), ("User-Agent", SimulatedPeer.userAgent)]
        func post(_ path: String, _ body: [UInt8]) {
            summary.requests += 1
            do {
                let response = try client.send(method: "POST", path: path, headers: headers, body: body)
                if response.status == 202 { summary.accepted += 1 } else { summary.failures["HTTP \(response.status)", default: 0] += 1 }
            } catch {
                summary.failures["\(error)", default: 0] += 1
            }
        }
        var tick = 0
        while true {
            let due = started.addingTimeInterval(Double(tick) * options.sampleIntervalSeconds)
            if due.timeIntervalSinceNow > 0 { Thread.sleep(until: due) }
            if Date().timeIntervalSince(started) > options.durationSeconds { break }
            for index in peers.indices {
                let body = peers[index].nextBody(now: Date().timeIntervalSince1970 * 1000, interval: options.sampleIntervalSeconds)
                post(peers[index].samplesPath, Array(body.utf8))
            }
            tick += 1
        }
        for peer in peers { post(peer.leavePath, []) }
        return summary
    }
}

/// One simulated browser: counters grow at realistic rates; loss is applied to packetsLost.
struct SimulatedPeer: Sendable {
    static let userAgent = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"

    let room: String
    let peer: String
    let options: Simulator.Options
    var seq = 0
    var sentAudio = (bytes: 0.0, packets: 0.0), sentVideo = (bytes: 0.0, packets: 0.0)
    var recvAudio = (bytes: 0.0, packets: 0.0, lost: 0.0), recvVideo = (bytes: 0.0, packets: 0.0, lost: 0.0)
    var remoteLostAudio = 0.0, remoteLostVideo = 0.0
    var jitterBufferDelay = 0.0, jitterBufferEmitted = 0.0

    init(room: String, peer: String, options: Simulator.Options) {
        self.room = room
        self.peer = peer
        self.options = options
    }

    var samplesPath: String { "/v1/rooms/\(room)/peers/\(peer)/samples" }
    var leavePath: String { "/v1/rooms/\(room)/peers/\(peer)/leave" }

    mutating func nextBody(now: Double, interval: Double) -> String {
        seq += 1
        let loss = options.lossPercent / 100
        // 50 audio packets/s of ~80 bytes (32 kbit/s); video ~800 kbit/s in ~1100-byte packets.
        let audioPackets = 50 * interval, videoPackets = 90 * interval
        sentAudio.bytes += audioPackets * 80; sentAudio.packets += audioPackets
        sentVideo.bytes += videoPackets * 1100; sentVideo.packets += videoPackets
        recvAudio.packets += audioPackets * (1 - loss); recvAudio.bytes += audioPackets * (1 - loss) * 80; recvAudio.lost += audioPackets * loss
        recvVideo.packets += videoPackets * (1 - loss); recvVideo.bytes += videoPackets * (1 - loss) * 1100; recvVideo.lost += videoPackets * loss
        remoteLostAudio += audioPackets * loss
        remoteLostVideo += videoPackets * loss
        // 960 samples per 20 ms packet, each held 40 ms in the jitter buffer.
        jitterBufferEmitted += audioPackets * 960
        jitterBufferDelay += audioPackets * 960 * 0.04
        let rtt = options.relay ? 0.08 : 0.04
        let candidateType = options.relay ? "relay" : "host"
        let ts = now.rounded()
        var events = ""
        if seq == 1 {
            let created = ts - 400
            events = """
            "events":[{"ts":\(created),"type":"pc_created","pc":"pc1"},{"ts":\(created + 150),"type":"ice_connection_state","pc":"pc1","state":"checking"},\
            {"ts":\(created + 300),"type":"ice_connection_state","pc":"pc1","state":"connected"},{"ts":\(created + 310),"type":"connection_state","pc":"pc1","state":"connected"}],
            """
        }
        func n(_ value: Double) -> String { String(Int(value.rounded())) }
        let relayProtocol = options.relay ? #","relayProtocol":"udp","url":"turn:turn.example.com:3478?transport=udp""# : ""
        return """
        {"sdk_version":"simulator-1.0","audio_device":"Simulated Microphone","video_device":"Simulated Camera","keys":{"simulated":"true"},\(events)\
        "samples":[{"seq":\(seq),"ts":\(ts),"pc":"pc1","stats":[\
        {"id":"CP1","timestamp":\(ts),"type":"candidate-pair","localCandidateId":"L1","remoteCandidateId":"R1","state":"succeeded","nominated":true,"currentRoundTripTime":\(rtt),"bytesSent":\(n(sentAudio.bytes + sentVideo.bytes)),"bytesReceived":\(n(recvAudio.bytes + recvVideo.bytes))},\
        {"id":"L1","timestamp":\(ts),"type":"local-candidate","candidateType":"\(candidateType)","protocol":"udp","address":"192.0.2.10","port":50000\(relayProtocol)},\
        {"id":"T1","timestamp":\(ts),"type":"transport","selectedCandidatePairId":"CP1","dtlsState":"connected","iceState":"connected"},\
        {"id":"COA","timestamp":\(ts),"type":"codec","mimeType":"audio/opus","clockRate":48000,"payloadType":111},\
        {"id":"COV","timestamp":\(ts),"type":"codec","mimeType":"video/VP8","clockRate":90000,"payloadType":96},\
        {"id":"CF1","timestamp":\(ts),"type":"certificate","fingerprint":"AA:BB:CC","fingerprintAlgorithm":"sha-256"},\
        {"id":"SA1","timestamp":\(ts),"type":"media-source","kind":"audio","trackIdentifier":"a1","audioLevel":0.1},\
        {"id":"OA","timestamp":\(ts),"type":"outbound-rtp","kind":"audio","ssrc":1001,"codecId":"COA","bytesSent":\(n(sentAudio.bytes)),"packetsSent":\(n(sentAudio.packets)),"targetBitrate":32000},\
        {"id":"OV","timestamp":\(ts),"type":"outbound-rtp","kind":"video","ssrc":1002,"codecId":"COV","bytesSent":\(n(sentVideo.bytes)),"packetsSent":\(n(sentVideo.packets)),"frameWidth":640,"frameHeight":480,"framesPerSecond":30},\
        {"id":"IA","timestamp":\(ts),"type":"inbound-rtp","kind":"audio","ssrc":2001,"codecId":"COA","bytesReceived":\(n(recvAudio.bytes)),"packetsReceived":\(n(recvAudio.packets)),"packetsLost":\(n(recvAudio.lost)),"jitter":0.004,"jitterBufferDelay":\(jitterBufferDelay),"jitterBufferEmittedCount":\(n(jitterBufferEmitted))},\
        {"id":"IV","timestamp":\(ts),"type":"inbound-rtp","kind":"video","ssrc":2002,"codecId":"COV","bytesReceived":\(n(recvVideo.bytes)),"packetsReceived":\(n(recvVideo.packets)),"packetsLost":\(n(recvVideo.lost)),"jitter":0.012,"frameWidth":640,"frameHeight":480},\
        {"id":"RA","timestamp":\(ts),"type":"remote-inbound-rtp","kind":"audio","localId":"OA","packetsLost":\(n(remoteLostAudio)),"jitter":0.005,"roundTripTime":\(rtt),"roundTripTimeMeasurements":\(seq),"totalRoundTripTime":\(rtt * Double(seq))},\
        {"id":"RV","timestamp":\(ts),"type":"remote-inbound-rtp","kind":"video","localId":"OV","packetsLost":\(n(remoteLostVideo)),"jitter":0.010,"roundTripTime":\(rtt),"roundTripTimeMeasurements":\(seq),"totalRoundTripTime":\(rtt * Double(seq))}\
        ]}]}
        """
    }
}
