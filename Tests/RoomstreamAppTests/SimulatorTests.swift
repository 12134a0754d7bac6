import Foundation
@testable import RoomstreamApp
import TestSupport
import Testing

struct SimulatorTests {
    @Test func simulatedRoomsEndWithFigures() async throws {
        let app = try AppTestService()
        var options = Simulator.Options(url: "http://127.0.0.1:\(app.port)", key: AppTestService.ingestKey)
        options.rooms = 2
        options.peersPerRoom = 2
        options.durationSeconds = 1.2
        options.sampleIntervalSeconds = 0.25
        options.lossPercent = 2
        options.relay = true
        let summary = try Simulator(options: options).run()
        #expect(summary.failures.isEmpty, "\(summary)")
        #expect(summary.accepted == summary.requests)
        let page = try #require(jsonObject(try app.admin("/v1/rooms?state=ended")))
        let rooms = try #require(page["rooms"] as? [[String: Any]])
        #expect(rooms.count == 2)
        for room in rooms {
            #expect(room["users"] as? Int == 2)
            let peer = try #require((room["peers"] as? [[String: Any]])?.first)
            #expect((peer["features"] as? [String: Any])?["connection_type"] as? String == "TURN")
            let audio = try #require((peer["stats"] as? [String: Any])?["audio"] as? [String: Any])
            let send = try #require(audio["send"] as? [String: Any])
            #expect(abs(Double(send["bitrate"] as? Int ?? 0) - 32) <= 2)
            #expect(abs((send["packet_loss"] as? Double ?? 0) - 2) <= 0.3)
            #expect(send["rtt"] as? Int == 80)
            #expect(((peer["stats"] as? [String: Any])?["call_setup_time"] as? Int) == 310)
        }
        await app.stop()
    }

    @Test func badURLIsAClearError() {
        #expect(throws: (any Error).self) { try Simulator(options: .init(url: "https://x", key: "k")).run() }
    }
}
