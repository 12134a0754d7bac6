#if canImport(Glibc)
import Glibc
#endif
import Foundation
@testable import RoomstreamApp
import RoomstreamCore
import RoomstreamStreams
import TestSupport
import Testing

/// A full disk: ingest answers 503 (never a 2xx the service cannot keep), no state file is
/// torn, and the service recovers by itself when space returns.
@Suite(.enabled(if: SmallFilesystem.mountable, "needs to mount a tmpfs (root, and a machine that allows mounting)"))
struct DiskFullTests {
    func ingest(_ app: AppTestService, room: String, ts: Int) throws -> ClientResponse? {
        let keys = (0..<8).map { "\"k\($0)\":\"\(String(repeating: "v", count: 200))\"" }.joined(separator: ",")
        return try app.ingest(room: room, peer: "p", json: #"{"keys":{\#(keys)},"samples":[{"seq":1,"ts":\#(ts),"pc":"pc1","stats":[]}]}"#)
    }

    @Test func aFullDiskGives503KeepsTheLastCheckpointWholeAndRecovers() async throws {
        let disk = try SmallFilesystem(kilobytes: 512)
        let app = try AppTestService {
            $0.dataDirectory = disk.path + "/data"
            $0.checkpointIntervalSeconds = 0.1
        }
        let checkpoint = app.service.checkpoint
        let ts = Int(Date().timeIntervalSince1970 * 1000)
        #expect(try ingest(app, room: "before", ts: ts)?.status == 202)
        #expect(await eventually { (try? checkpoint.load())??.live.contains { $0.id == "before" } == true })

        let filler = disk.fill()
        // Every new room makes the next checkpoint larger than the space left.
        var refused: ClientResponse?
        var acknowledged = ["before"]
        for index in 0..<200 where refused == nil {
            let response = try ingest(app, room: "during-\(index)", ts: ts + index)
            if response?.status == 202 { acknowledged.append("during-\(index)") }
            if response?.status == 503 { refused = response } else { try await Task.sleep(for: .milliseconds(20)) }
        }
        let response = try #require(refused, "ingest kept answering 2xx on a full disk")
        #expect(response.bodyText.contains("storage_unavailable"))
        #expect(response.headers["retry-after"] != nil)
        // The last good checkpoint is whole (rename only replaces it when a new one is complete).
        let kept = try #require(try checkpoint.load())
        #expect(kept.live.contains { $0.id == "before" })
        #expect(!FileManager.default.fileExists(atPath: checkpoint.path + ".tmp"))

        unlink(filler)
        #expect(await eventually(timeout: .seconds(10)) { (try? self.ingest(app, room: "after", ts: ts + 1000))??.status == 202 })
        #expect(await eventually { (try? checkpoint.load())??.live.contains { $0.id == "after" } == true })
        acknowledged.append("after")

        // What a crash now would recover (checkpoint + write-ahead log, read without stopping):
        // every room that was answered 202, before, during and after the full disk.
        var recovered: RoomRegistry?
        for _ in 0..<20 where recovered == nil {
            let snapshot = try #require(try checkpoint.load())
            let registry = RoomRegistry(restoring: snapshot)
            let summary = try WriteAheadLog.replay(directory: disk.path + "/data/rooms/log", after: snapshot.logPosition ?? 0) { registry.replay($0) }
            // A checkpoint between the two reads deletes segments the older one needs: read again.
            if !summary.problems.contains(where: { $0.contains("missing") }) { recovered = registry }
        }
        let registry = try #require(recovered)
        for room in acknowledged { #expect(registry.room(id: room) != nil, "\(room) was answered 202 but would be lost") }
        await app.stop()
    }
}
