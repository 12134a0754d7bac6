#if canImport(Glibc)
import Glibc
#endif
import Foundation
import RoomstreamBasics
import RoomstreamCore
import RoomstreamIngest
@testable import RoomstreamStreams
import Testing
import TestSupport

/// The engine when its disk or its store misbehaves: journal failures keep the rooms and show,
/// status and admin never wait for I/O, a window's rooms stream through the sealer one at a
/// time, and a paused stream's backlog is bounded.
struct StreamsEngineRobustnessTests {
    static let t0 = StreamsEngineTests.ms("2022-09-04T10:00:00.000Z")

    static func engine(_ data: String, _ definitions: [StreamDefinition], _ registry: RoomRegistry, now: Double,
                       configure: (inout StreamsEngine.Configuration) -> Void = { _ in }) throws -> StreamsEngine {
        var configuration = StreamsEngine.Configuration(dataDirectory: data, peerTimeoutSeconds: 30, publicURL: "http://x")
        configuration.graceSeconds = 10
        configure(&configuration)
        return try StreamsEngine(definitions: definitions, registry: registry, configuration: configuration, now: now)
    }

    static func dataDirectory() throws -> String {
        let data = NSTemporaryDirectory() + "roomstream-robust-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: data + "/rooms", withIntermediateDirectories: true)
        return data
    }

    /// The journal directory is a file (as root, permissions cannot make it fail): it can be
    /// neither listed nor written. Nothing is sealed, the rooms stay in memory, the status and
    /// the log say why; once it is fixed the rooms reach their window's file.
    @Test func aFailingJournalKeepsTheRoomsShowsTheErrorAndRecovers() throws {
        let data = try Self.dataDirectory()
        try Data("not a directory".utf8).write(to: URL(fileURLWithPath: data + "/rooms/ended"))
        let registry = RoomRegistry()
        let events = LockedBox<[String]>([])
        var configuration = StreamsEngine.Configuration(dataDirectory: data, peerTimeoutSeconds: 30, publicURL: "http://x")
        configuration.graceSeconds = 10
        let engine = try StreamsEngine(definitions: [StreamDefinition(id: "m1", intervalMinutes: 1, destination: .directory(path: "store"))],
                                       registry: registry, configuration: configuration, now: Self.t0, onEvent: { event, _ in events.set(events.get() + [event]) })
        try StreamsEngineTests.endRoom(registry, "kept", at: Self.t0 + 10_000)
        for second in 0..<5 { engine.tick(now: Self.t0 + 100_000 + Double(second) * 1000) }
        let status = try #require(engine.statuses.first)
        #expect(status.files.isEmpty, "an unreadable journal must not seal an empty window")
        #expect(status.lastError?.contains("journal") == true)
        #expect(events.get().filter { $0 == "journal failed" }.count == 1, "logged once, not every second: \(events.get())")
        #expect(registry.endedRooms.map(\.id) == ["kept"])

        try FileManager.default.removeItem(atPath: data + "/rooms/ended")
        engine.tick(now: Self.t0 + 110_000)
        let healed = try #require(engine.statuses.first)
        #expect(healed.lastError == nil)
        let file = try #require(healed.files.first)
        #expect(file.rooms == 1)
        #expect(file.state == .uploaded)
        #expect(try String(contentsOfFile: "\(data)/store/\(file.key)", encoding: .utf8).contains("\"room_id\":\"kept\""))
    }

    @Test func journalNamesAreStablePerRoomInstanceAndNeverShared() {
        let a = EndedRoomJournal.name(end: 1000, roomID: "room", start: 500)
        #expect(a == EndedRoomJournal.name(end: 1000, roomID: "room", start: 500))
        #expect(a != EndedRoomJournal.name(end: 1000, roomID: "room", start: 501))
        #expect(a != EndedRoomJournal.name(end: 1000, roomID: "room2", start: 500))
        #expect(a.hasPrefix("000000000001000-"))
    }

    /// A window of many rooms: the sealer asks for each record once, in order, and the file
    /// holds them all.
    @Test func theSealerStreamsRecordsOneAtATime() throws {
        let spool = NSTemporaryDirectory() + "roomstream-synthetic-stream-\(UUID().uuidString)"
        let asked = LockedBox<(next: Int, inOrder: Bool)>((0, true))
        let count = 20_000
        let file = try Sealer.seal(recordCount: count, record: { index throws(StreamError) in
            let (next, inOrder) = asked.get()
            asked.set((next + 1, inOrder && index == next))
            return Array("{\"room_id\":\"r\(index)\"}".utf8)
        }, window: StreamWindow(start: 0, end: 60_000), definition: StreamDefinition(id: "s", compression: .gzip, destination: .directory(path: "x")),
           spoolDirectory: spool, now: 0)
        #expect(asked.get().next == count)
        #expect(asked.get().inOrder)
        #expect(file.rooms == count)
        let bytes = try Gzip.decompress(Array(Data(contentsOf: URL(fileURLWithPath: "\(spool)/\(file.spoolName)"))), maxOutputBytes: 1 << 28)
        let rooms = try JSONSerialization.jsonObject(with: Data(bytes)) as? [[String: String]]
        #expect(rooms?.count == count)
        #expect(rooms?.last?["room_id"] == "r\(count - 1)")
    }

    /// A paused stream holds its windows (shown as backlog) up to `maxPausedSeconds`; older
    /// ones are sealed into its spool, undelivered, so the journal is released; resuming
    /// delivers them in order.
    @Test func aPausedStreamsBacklogIsBoundedAndNothingIsLost() throws {
        let data = try Self.dataDirectory()
        let registry = RoomRegistry()
        let definition = StreamDefinition(id: "p", intervalMinutes: 1, destination: .directory(path: "store"), paused: true)
        let engine = try Self.engine(data, [definition], registry, now: Self.t0) { $0.maxPausedSeconds = 300 }
        for minute in 0..<3 { try StreamsEngineTests.endRoom(registry, "room-\(minute)", at: Self.t0 + Double(minute) * 60_000 + 30_000) }
        engine.tick(now: Self.t0 + 200_000)
        var status = try #require(engine.statuses.first)
        #expect(status.files.isEmpty)
        #expect(status.dueWindows(now: Self.t0 + 200_000) == 2)
        #expect(status.pendingRooms == 3)

        // 7 minutes on: windows that ended more than 5 minutes ago are sealed, not delivered.
        engine.tick(now: Self.t0 + 7 * 60_000 + 30_000)
        status = try #require(engine.statuses.first)
        #expect(status.files.map(\.window.description) == ["20220904T1000Z_20220904T1001Z", "20220904T1001Z_20220904T1002Z"])
        #expect(status.files.allSatisfy { $0.state == .sealed })
        #expect(status.pendingRooms == 1)
        #expect(try FileManager.default.contentsOfDirectory(atPath: data + "/rooms/ended").count == 1)

        try engine.update("p") { $0.paused = false }
        engine.tick(now: Self.t0 + 8 * 60_000)
        status = try #require(engine.statuses.first)
        #expect(status.files.count == 7)  // every window up to the current one, in order
        #expect(status.files.allSatisfy { $0.state == .uploaded })
        #expect(status.files.map(\.rooms).reduce(0, +) == 3)
        #expect(status.pendingRooms == 0)
    }

    /// An upload that hangs (a store that accepts and never answers) holds no lock: status
    /// and admin changes answer at once meanwhile.
    @Test func statusAndAdminDoNotWaitForAHangingUpload() async throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in(sin_family: sa_family_t(AF_INET), sin_port: 0, sin_addr: in_addr(s_addr: inet_addr("127.0.0.1")), sin_zero: (0, 0, 0, 0, 0, 0, 0, 0))
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) } }
        listen(listener, 8)
        let port = Int(UInt16(bigEndian: address.sin_port))

        let data = try Self.dataDirectory()
        let registry = RoomRegistry()
        let hanging = StreamDefinition(id: "s3", intervalMinutes: 1, destination: .s3(S3Destination(
            endpoint: "http://127.0.0.1:\(port)", region: "us-east-1", bucket: "bucket", accessKeyID: "AK", secretAccessKey: "SK", pathStyle: true)))
        let engine = try Self.engine(data, [hanging], registry, now: Self.t0)
        try StreamsEngineTests.endRoom(registry, "r", at: Self.t0 + 10_000)
        // The store goes away (its pending connection is reset) when the test is done, or after
        // 60 s if status or admin blocked behind the upload: then `done` is already true below.
        // (Generous: in a loaded sanitizer run this test's own checks can lag by seconds.)
        let storeLock = NSLock()
        let storeOpen = LockedBox(true)
        let closeStore: @Sendable () -> Void = {
            storeLock.withLock { if storeOpen.get() { storeOpen.set(false); shutdown(listener, Int32(SHUT_RDWR)) } }
        }
        let watchdog = Thread { Thread.sleep(forTimeInterval: 60); closeStore() }
        watchdog.start()
        let done = LockedBox(false)
        let thread = Thread { engine.tick(now: Self.t0 + 100_000); done.set(true) }
        thread.start()
        #expect(await eventually(timeout: .seconds(45)) { engine.statuses.first?.files.first?.state == .uploading })
        #expect(engine.statuses.first?.files.count == 1)
        try engine.update("s3") { $0.paused = true }
        #expect(!done.get(), "status and the admin change waited for the upload")
        closeStore()
        #expect(await eventually(timeout: .seconds(30)) { done.get() })
        storeLock.withLock { _ = closeDescriptor(listener) }
    }
}
