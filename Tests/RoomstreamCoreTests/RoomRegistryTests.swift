@testable import RoomstreamCore
import Testing

/// Room lifecycle with explicit service times (ms): no clocks, no sleeping.
struct RoomRegistryTests {
    static let t0 = 1_700_000_000_000.0

    /// A sample whose client clock equals the service clock (offset 0 when it arrives at once).
    static func sample(_ seq: Int64, at ts: Double, bytes: Double = 0) -> IngestBatch.Sample {
        var report = StatsReport()
        report.outbound = [OutboundRTP(id: "o1", timestamp: ts, kind: .audio, bytesSent: bytes, packetsSent: bytes / 100)]
        return IngestBatch.Sample(seq: seq, ts: ts, pc: "pc1", report: report)
    }

    static func batch(_ samples: [IngestBatch.Sample], events: [IngestBatch.Event] = []) -> IngestBatch {
        var batch = IngestBatch()
        batch.samples = samples
        batch.events = events
        return batch
    }

    func registry(timeout: Double = 30, maxPeers: Int = 1000, maxRooms: Int = 100, maxEnded: Int = 100) -> RoomRegistry {
        var configuration = RoomRegistryConfiguration()
        configuration.peerTimeoutSeconds = timeout
        configuration.maxPeersPerRoom = maxPeers
        configuration.maxLiveRooms = maxRooms
        configuration.maxEndedRooms = maxEnded
        return RoomRegistry(configuration: configuration)
    }

    @Test func leaveOfTheLastPeerEndsTheRoomAtItsLastActivity() throws {
        let rooms = registry()
        let t0 = Self.t0
        _ = try rooms.ingest(roomID: "r", peerID: "a", batch: Self.batch([Self.sample(1, at: t0)]), arrival: t0, userAgent: nil)
        _ = try rooms.ingest(roomID: "r", peerID: "b", batch: Self.batch([Self.sample(1, at: t0 + 1000)]), arrival: t0 + 1000, userAgent: nil)
        _ = try rooms.ingest(roomID: "r", peerID: "a", batch: Self.batch([Self.sample(2, at: t0 + 5000)], events: [.init(ts: t0 + 6000, kind: .leave)]), arrival: t0 + 6000, userAgent: nil)
        #expect(rooms.room(id: "r")?.isLive == true)
        _ = try rooms.ingest(roomID: "r", peerID: "b", batch: Self.batch([], events: [.init(ts: t0 + 4000, kind: .leave)]), arrival: t0 + 4000, userAgent: nil)
        let room = try #require(rooms.room(id: "r"))
        #expect(!room.isLive)
        #expect(room.startTime == t0)
        #expect(room.endTime == t0 + 6000)
        #expect(rooms.liveRoomCount == 0)
    }

    @Test func silentPeersTimeOutAndTheRoomEndsAtTheLastActivityNotTheTimeout() throws {
        let rooms = registry(timeout: 30)
        let t0 = Self.t0
        _ = try rooms.ingest(roomID: "r", peerID: "a", batch: Self.batch([Self.sample(1, at: t0), Self.sample(2, at: t0 + 2000)]), arrival: t0 + 2000, userAgent: nil)
        #expect(rooms.expire(now: t0 + 31_999).isEmpty)
        let ended = rooms.expire(now: t0 + 32_000)
        #expect(ended.map(\.id) == ["r"])
        #expect(ended.first?.endTime == t0 + 2000)
    }

    @Test func aPeerThatComesBackBeforeTheRoomEndsIsTheSamePeer() throws {
        let rooms = registry(timeout: 30)
        let t0 = Self.t0
        _ = try rooms.ingest(roomID: "r", peerID: "a", batch: Self.batch([Self.sample(1, at: t0)]), arrival: t0, userAgent: nil)
        _ = try rooms.ingest(roomID: "r", peerID: "b", batch: Self.batch([Self.sample(1, at: t0), Self.sample(2, at: t0 + 10_000)]), arrival: t0 + 10_000, userAgent: nil)
        _ = try rooms.ingest(roomID: "r", peerID: "a", batch: Self.batch([], events: [.init(ts: t0 + 10_000, kind: .leave)]), arrival: t0 + 10_000, userAgent: nil)
        _ = try rooms.ingest(roomID: "r", peerID: "a", batch: Self.batch([Self.sample(2, at: t0 + 20_000), Self.sample(3, at: t0 + 25_000)]), arrival: t0 + 25_000, userAgent: nil)
        let room = try #require(rooms.room(id: "r"))
        #expect(room.peerCount == 2)
        let a = try #require(room.peer("a"))
        // Present 0→10 s, then 20→25 s: 15 s, not 25.
        #expect(a.presenceSeconds == 15)
        #expect(room.isLive)
    }

    @Test func aRoomIDUsedAgainAfterTheRoomEndedStartsANewRoom() throws {
        let rooms = registry()
        let t0 = Self.t0
        _ = try rooms.ingest(roomID: "r", peerID: "a", batch: Self.batch([Self.sample(1, at: t0)], events: [.init(ts: t0 + 1000, kind: .leave)]), arrival: t0 + 1000, userAgent: nil)
        let first = try #require(rooms.room(id: "r"))
        _ = try rooms.ingest(roomID: "r", peerID: "a", batch: Self.batch([Self.sample(2, at: t0 + 60_000)]), arrival: t0 + 60_000, userAgent: nil)
        let second = try #require(rooms.room(id: "r"))
        #expect(second.instance != first.instance)
        #expect(second.startTime == t0 + 60_000)
        #expect(second.isLive)
        #expect(rooms.room(id: "r", start: t0)?.instance == first.instance)
    }

    @Test func lateItemsOfAnEndedRoomAreCountedNotApplied() throws {
        let rooms = registry()
        let t0 = Self.t0
        _ = try rooms.ingest(roomID: "r", peerID: "a", batch: Self.batch([Self.sample(1, at: t0), Self.sample(2, at: t0 + 5000)], events: [.init(ts: t0 + 5000, kind: .leave)]), arrival: t0 + 5000, userAgent: nil)
        // A retry of an earlier batch arrives after the room ended.
        let outcome = try rooms.ingest(roomID: "r", peerID: "b", batch: Self.batch([Self.sample(7, at: t0 + 3000)]), arrival: t0 + 3000 + 20, userAgent: nil)
        #expect(outcome == IngestOutcome(accepted: 0, duplicates: 0, late: 1))
        #expect(rooms.liveRoomCount == 0)
        #expect(rooms.room(id: "r")?.peerCount == 1)
    }

    @Test func duplicateSequenceNumbersAreIgnored() throws {
        let rooms = registry()
        let t0 = Self.t0
        let first = try rooms.ingest(roomID: "r", peerID: "a", batch: Self.batch([Self.sample(1, at: t0), Self.sample(2, at: t0 + 1000)]), arrival: t0 + 1000, userAgent: nil)
        #expect(first == IngestOutcome(accepted: 2, duplicates: 0, late: 0))
        let retry = try rooms.ingest(roomID: "r", peerID: "a", batch: Self.batch([Self.sample(2, at: t0 + 1000), Self.sample(3, at: t0 + 2000)]), arrival: t0 + 2000, userAgent: nil)
        #expect(retry == IngestOutcome(accepted: 1, duplicates: 1, late: 0))
    }

    @Test func boundsAreEnforced() throws {
        let rooms = registry(maxPeers: 1, maxRooms: 1, maxEnded: 1)
        let t0 = Self.t0
        _ = try rooms.ingest(roomID: "r", peerID: "a", batch: Self.batch([Self.sample(1, at: t0)]), arrival: t0, userAgent: nil)
        #expect(throws: RoomError.roomFull(limit: 1)) {
            try rooms.ingest(roomID: "r", peerID: "b", batch: Self.batch([Self.sample(1, at: t0)]), arrival: t0, userAgent: nil)
        }
        #expect(throws: RoomError.tooManyRooms(limit: 1)) {
            try rooms.ingest(roomID: "s", peerID: "a", batch: Self.batch([Self.sample(1, at: t0)]), arrival: t0, userAgent: nil)
        }
        // Ended rooms beyond the bound: the oldest is dropped and counted.
        rooms.expire(now: t0 + 60_000)
        _ = try rooms.ingest(roomID: "s", peerID: "a", batch: Self.batch([Self.sample(1, at: t0 + 70_000)], events: [.init(ts: t0 + 70_000, kind: .leave)]), arrival: t0 + 70_000, userAgent: nil)
        #expect(rooms.endedRooms.map(\.id) == ["s"])
        #expect(rooms.droppedEndedRooms == 1)
    }

    @Test func clockOffsetPutsClientTimesOnTheServiceClock() throws {
        let rooms = registry()
        let t0 = Self.t0
        // The client clock is 5 minutes behind; the request arrives 40 ms after its latest ts.
        let skew = -300_000.0
        _ = try rooms.ingest(roomID: "r", peerID: "a", batch: Self.batch([Self.sample(1, at: t0 + skew)]), arrival: t0 + 40, userAgent: nil)
        _ = try rooms.ingest(roomID: "r", peerID: "a", batch: Self.batch([Self.sample(2, at: t0 + 1000 + skew)]), arrival: t0 + 1010, userAgent: nil)
        let room = try #require(rooms.room(id: "r"))
        #expect(room.startTime == t0 + 40)  // first request's estimate
        #expect(room.peer("a")?.clockOffsetMilliseconds == 300_010)  // the smaller of 300 040 and 300 010
    }

    @Test func requestWithoutTimedItemsOpensNoRoom() throws {
        let rooms = registry()
        var batch = IngestBatch()
        batch.sdkVersion = "1.0"
        _ = try rooms.ingest(roomID: "r", peerID: "a", batch: batch, arrival: Self.t0, userAgent: nil)
        #expect(rooms.liveRoomCount == 0)
    }
}

struct RoomRetentionTests {
    @Test func releaseDropsRoomsEndedBeforeATime() throws {
        let registry = RoomRegistry()
        let t0 = RoomRegistryTests.t0
        for (index, end) in [1000.0, 5000, 9000].enumerated() {
            let batch = RoomRegistryTests.batch([RoomRegistryTests.sample(1, at: t0)], events: [.init(ts: t0 + end, kind: .leave)])
            _ = try registry.ingest(roomID: "r\(index)", peerID: "a", batch: batch, arrival: t0 + end, userAgent: nil)
        }
        #expect(registry.endedRooms.map(\.id).sorted() == ["r0", "r1", "r2"])
        #expect(registry.releaseEndedRooms(endedBefore: t0 + 6000) == 2)
        #expect(registry.endedRooms.map(\.id) == ["r2"])
        #expect(registry.releaseEndedRooms(endedBefore: t0 + 6000) == 0)
    }
}

struct LargeRoomTests {
    @Test func peersAreFoundBeforeAndAfterTheRoomIsIndexed() throws {
        let registry = RoomRegistry()
        let t0 = RoomRegistryTests.t0
        for index in 0..<40 {
            _ = try registry.ingest(roomID: "big", peerID: "p\(index)", batch: RoomRegistryTests.batch([RoomRegistryTests.sample(1, at: t0 + Double(index))]), arrival: t0 + Double(index), userAgent: nil)
        }
        // A second sample from every peer goes to the same peer, not a new one.
        for index in 0..<40 {
            _ = try registry.ingest(roomID: "big", peerID: "p\(index)", batch: RoomRegistryTests.batch([RoomRegistryTests.sample(2, at: t0 + 1000)]), arrival: t0 + 1000, userAgent: nil)
        }
        let room = try #require(registry.room(id: "big"))
        #expect(room.peerCount == 40)
        #expect(room.orderedPeers.map(\.id) == (0..<40).map { "p\($0)" })
        #expect((0..<40).allSatisfy { room.peer("p\($0)")?.lastActivity == t0 + 1000 })
    }
}
