import Foundation
@testable import RoomstreamApp
import RoomstreamCore
import TestSupport
import Testing

/// Input an attacker with an ingest key (anyone: keys ship in web pages) would send, over real
/// sockets: several bodies in a row to one peer whose counters jump, go negative, or carry
/// absurd values. The service must answer every request and render the room afterwards, with
/// every figure finite and plausible (a counter step implying more than 100 Gbit/s is a reset,
/// metrics.md "Garbage and resets").
struct HostileInputTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        /// `{"bytes"}` and `{"packets"}` values (JSON literals) per body, in order.
        var steps: [(bytes: String, packets: String)]
        var extra: String = ""
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "counter 0 then 1e30 (the reported crash)", steps: [("0", "0"), ("1e30", "1e30")]),
        Case(name: "counter to the largest double", steps: [("10", "1"), ("1.7976931348623157e308", "1.7976931348623157e308")]),
        Case(name: "negative counters", steps: [("-1e30", "-5"), ("1000", "10"), ("-1", "-1"), ("2000", "20")]),
        Case(name: "huge, then reset, then normal", steps: [("5", "1"), ("9e15", "9e15"), ("100", "2"), ("200", "4")]),
        Case(name: "NaN-like strings", steps: [("\"NaN\"", "\"Infinity\""), ("\"-Infinity\"", "\"1e400\""), ("1000", "10")]),
        Case(name: "fractions and tiny steps", steps: [("1e-300", "1e-300"), ("2e-300", "2e-300"), ("0.5", "0.5")]),
        Case(name: "absurd jitter, rtt, frame size, loss and timestamps", steps: [("0", "0"), ("1000", "10"), ("2000", "20")],
             extra: #","jitter":1e300,"packetsLost":-9e300,"frameWidth":1e300,"frameHeight":-1e300,"jitterBufferDelay":1e300,"jitterBufferEmittedCount":1e300,"roundTripTime":1e300,"currentRoundTripTime":1e300"#),
    ]

    static func body(seq: Int, ts: Int, bytes: String, packets: String, extra: String) -> String {
        let stats = [
            #"{"id":"O","type":"outbound-rtp","timestamp":\#(ts),"kind":"audio","bytesSent":\#(bytes),"packetsSent":\#(packets)\#(extra)}"#,
            #"{"id":"I","type":"inbound-rtp","timestamp":\#(ts),"kind":"video","bytesReceived":\#(bytes),"packetsReceived":\#(packets)\#(extra)}"#,
            #"{"id":"R","type":"remote-inbound-rtp","timestamp":\#(ts),"kind":"audio","localId":"O","packetsLost":\#(packets)\#(extra)}"#,
            #"{"id":"C","type":"candidate-pair","timestamp":\#(ts),"selected":true,"state":"succeeded"\#(extra)}"#,
        ]
        return #"{"samples":[{"seq":\#(seq),"ts":\#(ts),"pc":"pc1","stats":[\#(stats.joined(separator: ","))]}]}"#
    }

    /// Every number in a JSON value, with its path.
    static func numbers(_ value: Any, path: String = "") -> [(String, Double)] {
        switch value {
        case let object as [String: Any]: return object.flatMap { numbers($0.value, path: "\(path).\($0.key)") }
        case let array as [Any]: return array.enumerated().flatMap { numbers($0.element, path: "\(path)[\($0.offset)]") }
        case let number as NSNumber where !isJSONBoolean(number): return [(path, number.doubleValue)]
        default: return []
        }
    }

    @Test(arguments: cases)
    func serviceSurvivesAndFiguresStayPlausible(_ testCase: Case) async throws {
        let app = try AppTestService()
        let t0 = Int(Date().timeIntervalSince1970 * 1000) - 60_000
        for (index, step) in testCase.steps.enumerated() {
            let response = try app.ingest(room: "hostile", peer: "p", json: Self.body(seq: index + 1, ts: t0 + index * 1000, bytes: step.bytes, packets: step.packets, extra: testCase.extra))
            #expect(response?.status == 202 || response?.status == 400, "step \(index): \(response?.bodyText ?? "no answer")")
        }
        for target in ["/v1/rooms/hostile", "/v1/rooms?state=live"] {
            let response = try #require(try app.admin(target), "no answer to \(target): the service is gone")
            #expect(response.status == 200)
            let json = try JSONSerialization.jsonObject(with: Data(response.body))
            for (path, number) in Self.numbers(json) {
                #expect(number.isFinite && abs(number) < 1e15, "\(target) \(path) = \(number)")
                if path.hasSuffix("bitrate") { #expect(number <= 100_000_000, "\(path) = \(number) kbit/s is above 100 Gbit/s") }
            }
        }
        #expect(try app.request("POST", "/v1/rooms/hostile/peers/p/leave", headers: ["Authorization": "Bearer \(AppTestService.ingestKey)"])?.status == 202)
        #expect(try app.admin("/v1/rooms/hostile")?.status == 200)
        await app.stop()
    }
}
