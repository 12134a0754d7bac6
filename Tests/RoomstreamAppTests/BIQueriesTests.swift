import Foundation
@testable import RoomstreamApp
import RoomstreamCore
import RoomstreamStreams
import Testing
import TestSupport

/// docs/bi.md as an analyst runs it: files the simulator produced over three days (plain, then
/// gzip; empty windows), every documented DuckDB statement verbatim, results checked against
/// figures computed from the JSON (scripts/bi-check.py), and every record against
/// docs/room-record.schema.json with the stable-type rules (scripts/validate-records.py).
@Suite(.serialized) struct BIQueriesTests {
    static let scripts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../scripts").standardized.path

    static func python(has module: String) -> Bool {
        guard let child = try? ChildProcess("/usr/bin/env", ["python3", "-c", "import \(module)"]) else { return false }
        return child.wait() == 0
    }
    static let runnable = TestEnvironment.isCI || (python(has: "duckdb") && python(has: "jsonschema") && python(has: "pandas"))

    /// The simulator on a thread of its own (it blocks while it posts): neither the test pool nor
    /// Dispatch's global queue, whose few threads the services under test need.
    static func simulate(_ options: Simulator.Options) async throws -> Simulator.Summary {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try Simulator(options: options).run() }) }
        }
    }

    @Test(.enabled(if: runnable, "needs duckdb, jsonschema and pandas from PyPI (make test installs them)"),
          .enabled(if: !Sanitizer.isActive, "a CPU-heavy integration test (JSON, Python, files); under a sanitizer it starves the 2-core machine's test pool, and the sanitizer runs are for the service's own threads and memory"))
    func theDocumentedQueriesRunVerbatimAndAgree() async throws {
        let day0 = ISO8601Milliseconds.parse("2022-09-04T10:00:00.000Z") ?? 0
        let clock = ManualWallClock(day0)
        let data = NSTemporaryDirectory() + "roomstream-bi-\(UUID().uuidString)"
        let app = try AppTestService(wallClock: clock) {
            $0.dataDirectory = data
            $0.streams = [StreamDefinition(id: "hourly", intervalMinutes: 60, destination: .directory(path: "files"))]
        }
        for day in 0..<3 {
            let morning = day0 + Double(day) * 86_400_000
            clock.advance(to: morning)
            if day == 1 { try app.service.streams.update("hourly", check: false) { $0.compression = .gzip } }
            var options = Simulator.Options(url: "http://127.0.0.1:\(app.port)", key: AppTestService.ingestKey)
            options.rooms = 4
            options.durationSeconds = 1.2
            options.sampleIntervalSeconds = 0.4
            options.lossPercent = day == 1 ? 4 : 0.5
            options.relay = day == 2
            options.roomPrefix = "day\(day)"
            let summary = try await Self.simulate(options)
            #expect(summary.failures.isEmpty, "\(summary)")
            clock.advance(to: morning + 13 * 3_600_000)
            app.service.streams.tick(now: clock.nowMilliseconds())
        }
        clock.advance(to: day0 + 3 * 86_400_000)
        app.service.streams.tick(now: clock.nowMilliseconds())
        await app.stop()

        let check = try ChildProcess("/usr/bin/env", ["python3", "\(Self.scripts)/bi-check.py", data])
        #expect(await check.exited() == 0, "\(check.stdout)\(check.stderr)")
        let files = try FileManager.default.subpathsOfDirectory(atPath: data + "/files").filter { $0.contains(".json") }.map { data + "/files/" + $0 }
        #expect(files.count >= 60)
        let validate = try ChildProcess("/usr/bin/env", ["python3", "\(Self.scripts)/validate-records.py"] + files)
        #expect(await validate.exited() == 0, "\(validate.stdout)\(validate.stderr)")
    }
}
