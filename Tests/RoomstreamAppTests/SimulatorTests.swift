import Foundation
@testable import RoomstreamApp
import RoomstreamCore
import RoomstreamStreams
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

/// The simulator's rooms through the whole pipeline: every room in exactly one file, in the
/// window of its end, byte for byte as the room query showed it.
struct SimulatorToFilesTests {
    @Test func everySimulatedRoomLandsExactlyOnceInItsWindowsFile() async throws {
        let t0 = ISO8601Milliseconds.parse("2022-09-04T10:00:05.000Z") ?? 0
        let clock = ManualWallClock(t0)
        let store = NSTemporaryDirectory() + "roomstream-sim-\(UUID().uuidString)"
        let app = try AppTestService(wallClock: clock) {
            $0.streams = [StreamDefinition(id: "m1", intervalMinutes: 1, destination: .directory(path: store))]
            $0.graceSeconds = 0
        }
        var options = Simulator.Options(url: "http://127.0.0.1:\(app.port)", key: AppTestService.ingestKey)
        options.rooms = 3
        options.peersPerRoom = 2
        options.durationSeconds = 0.6
        options.sampleIntervalSeconds = 0.2
        _ = try Simulator(options: options).run()
        let ended = try #require(jsonObject(try app.admin("/v1/rooms?state=ended"))?["rooms"] as? [[String: Any]])
        #expect(ended.count == 3)
        var expected: [String: String] = [:]
        for room in ended {
            let id = try #require(room["room_id"] as? String)
            expected[id] = try #require(try app.admin("/v1/rooms/\(id)")).bodyText.replacingOccurrences(of: ",\"state\":\"ended\"", with: "")
        }
        clock.advance(to: t0 + 3 * 60_000)
        #expect(await eventually { (app.service.streams.status(of: "m1")?.files.count ?? 0) >= 2 && app.service.streams.status(of: "m1")?.files.allSatisfy { $0.state == .uploaded } == true })
        var found: [String: Int] = [:]
        for file in app.service.streams.status(of: "m1")?.files ?? [] {
            let text = try String(contentsOfFile: "\(store)/\(file.key)", encoding: .utf8)
            let rooms = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]])
            for room in rooms {
                let id = try #require(room["room_id"] as? String)
                found[id, default: 0] += 1
                let end = ISO8601Milliseconds.parse(room["end_time"] as? String ?? "") ?? -1
                #expect(file.window.contains(end), "\(id) ended at \(end), outside \(file.window)")
                #expect(text.contains(expected[id] ?? "?"), "\(id) differs from the room query")
            }
        }
        #expect(found == expected.mapValues { _ in 1 })
        await app.stop()
    }
}
