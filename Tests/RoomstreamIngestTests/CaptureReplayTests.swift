import Foundation
import RoomstreamCore
import RoomstreamIngest
import Testing
import TestSupport

/// Real Chrome, Firefox and Safari `getStats()` captures (../shared/captures) replayed through
/// the decoder and the figures engine, against independently computed expected figures.
@Suite(.enabled(if: SharedData.runnable, "needs ../shared/captures beside the checkout"))
struct CaptureReplayTests {
    static let capturesDirectory = SharedData.captures

    static let captures = ["direct-chrome156", "lossy-turn-udp-chrome156", "rtcstats-firefox-standard-stats-sfu", "rtcstats-safari-standard-stats"]

    /// Replays a capture; returns each peer after its last body.
    static func replay(_ name: String) throws -> [String: Peer] {
        let text = try String(contentsOf: capturesDirectory.appendingPathComponent("\(name).ndjson"), encoding: .utf8)
        var peers: [String: Peer] = [:]
        for line in text.split(separator: "\n") {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            guard let peerID = object["peer"] as? String else { continue }  // a closing {"done": true} line
            let body = try JSONSerialization.data(withJSONObject: try #require(object["body"]))
            let batch = try IngestDecoder.decode(Array(body))
            let arrival = (batch.latestTimestamp ?? 0) + 50
            _ = peers[peerID, default: Peer(id: peerID)].apply(batch, arrival: arrival, defaultUserAgent: nil)
        }
        return peers
    }

    static func expected(_ name: String) throws -> [String: [String: Any]] {
        let data = try Data(contentsOf: capturesDirectory.appendingPathComponent("\(name).expected.json"))
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        return try #require(object["peers"] as? [String: [String: Any]])
    }

    /// capture README: bitrate, jitter and rtt within 2 % + 0.5; loss within 0.15 points; MOS within 0.05.
    static func check(_ actual: Double?, _ expected: Any?, tolerance: (Double) -> Double, _ label: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let expectedValue = expected as? Double
        guard let expectedValue else {
            #expect(actual == nil, "\(label): expected null, got \(String(describing: actual))", sourceLocation: sourceLocation)
            return
        }
        guard let actual else {
            Issue.record("\(label): expected \(expectedValue), got null", sourceLocation: sourceLocation)
            return
        }
        #expect(abs(actual - expectedValue) <= tolerance(expectedValue), "\(label): expected \(expectedValue), got \(actual)", sourceLocation: sourceLocation)
    }

    @Test(arguments: captures)
    func figuresMatchTheGroundTruth(_ name: String) throws {
        let peers = try Self.replay(name)
        let expected = try Self.expected(name)
        let measure: (Double) -> Double = { 0.02 * abs($0) + 0.5 }
        for (peerID, truth) in expected {
            let peer = try #require(peers[peerID], "peer \(peerID) missing")
            let figures = peer.figures
            let truthFigures = try #require(truth["figures"] as? [String: Any])
            for (kind, kindFigures) in [("audio", figures.audio), ("video", figures.video)] {
                let t = truthFigures[kind] as? [String: Any] ?? [:]
                let send = t["send"] as? [String: Any] ?? [:]
                let recv = t["recv"] as? [String: Any] ?? [:]
                let at = "\(name) \(peerID) \(kind)"
                Self.check(kindFigures.send.bitrateKbps, send["bitrate"], tolerance: measure, "\(at) send bitrate")
                Self.check(kindFigures.recv.bitrateKbps, recv["bitrate"], tolerance: measure, "\(at) recv bitrate")
                Self.check(kindFigures.send.packetLossPercent, send["packet_loss"], tolerance: { _ in 0.15 }, "\(at) send loss")
                Self.check(kindFigures.recv.packetLossPercent, recv["packet_loss"], tolerance: { _ in 0.15 }, "\(at) recv loss")
                Self.check(kindFigures.send.jitterMilliseconds, send["jitter"], tolerance: measure, "\(at) send jitter")
                Self.check(kindFigures.recv.jitterMilliseconds, recv["jitter"], tolerance: measure, "\(at) recv jitter")
                Self.check(kindFigures.send.rttMilliseconds, send["rtt"], tolerance: measure, "\(at) send rtt")
                Self.check(kindFigures.bitrateKbps, t["bitrate"], tolerance: measure, "\(at) bitrate")
                Self.check(kindFigures.packetLossPercent, t["packet_loss"], tolerance: { _ in 0.15 }, "\(at) loss")
                Self.check(kindFigures.jitterMilliseconds, t["jitter"], tolerance: measure, "\(at) jitter")
                if kind == "audio" {
                    Self.check(kindFigures.send.mos, send["mos"], tolerance: { _ in 0.05 }, "\(at) send mos")
                    Self.check(kindFigures.recv.mos, recv["mos"], tolerance: { _ in 0.05 }, "\(at) recv mos")
                }
            }
            Self.check(figures.mos, truth["mos"], tolerance: { _ in 0.05 }, "\(name) \(peerID) mos")
            Self.check(figures.callSetupMilliseconds, (truth["call_setup_time"] as? NSNumber)?.doubleValue, tolerance: { _ in 1 }, "\(name) \(peerID) call setup")
            let features = truth["features"] as? [String: Any] ?? [:]
            #expect(peer.connectionType == features["connection_type"] as? String, "\(name) \(peerID) connection type")
            #expect(peer.mediaTransport == features["media_transport"] as? String, "\(name) \(peerID) transport")
            #expect(peer.audioDevice == truth["audio_device"] as? String)
            #expect(peer.videoDevice == truth["video_device"] as? String)
        }
    }
}
