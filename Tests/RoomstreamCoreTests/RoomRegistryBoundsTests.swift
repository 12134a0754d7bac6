@testable import RoomstreamCore
import Testing

/// Issue 8 groundwork: expiry visits only rooms whose deadline passed; global and per-peer
/// bounds refuse, whole, what would exceed them.
struct RoomRegistryBoundsTests {
    static let t0 = RoomRegistryTests.t0

    func registry(_ configure: (inout RoomRegistryConfiguration) -> Void = { _ in }) -> RoomRegistry {
        var configuration = RoomRegistryConfiguration()
        configuration.peerTimeoutSeconds = 30
        configure(&configuration)
        return RoomRegistry(configuration: configuration)
    }

    func post(_ rooms: RoomRegistry, _ room: String, _ peer: String, seq: Int64, at time: Double, keys: [(String, IngestBatch.KeyValue)] = []) throws -> IngestOutcome {
        var batch = RoomRegistryTests.batch([RoomRegistryTests.sample(seq, at: time)])
        batch.keys = keys.map { (name: $0.0, value: $0.1) }
        return try rooms.ingest(roomID: room, peerID: peer, batch: batch, arrival: time, userAgent: nil)
    }

    /// A room's shard is FNV-1a of its id modulo 16: fixed across runs and builds, because the
    /// instance numbers a checkpoint and the log carry depend on it.
    @Test(arguments: [("", 5), ("r", 5), ("room-1", 12), ("call-1", 7), ("日本", 1)])
    func shardOfARoomIDIsStable(_ roomID: String, _ shard: Int) {
        #expect(RoomRegistry.shardIndex(roomID) == shard)
    }

    /// Rooms spread over the shards keep distinct instance numbers, and each id's next
    /// instance is larger than its last.
    @Test func instancesAreUniqueAcrossShards() throws {
        let rooms = registry()
        for index in 0..<200 { _ = try post(rooms, "room-\(index)", "p", seq: 1, at: Self.t0) }
        #expect(Set(rooms.liveRooms.map(\.instance)).count == 200)
        let first = try #require(rooms.room(id: "room-7"))
        _ = rooms.leave(roomID: "room-7", peerID: "p", arrival: Self.t0 + 10)
        _ = try post(rooms, "room-7", "p", seq: 2, at: Self.t0 + 1000)
        #expect(try #require(rooms.room(id: "room-7")).instance > first.instance)
    }

    @Test func expiryVisitsOnlyRoomsWhoseDeadlinePassed() throws {
        let rooms = registry()
        for index in 0..<2000 { _ = try post(rooms, "room-\(index)", "p", seq: 1, at: Self.t0 + Double(index)) }
        #expect(rooms.expire(now: Self.t0 + 1000).isEmpty)
        #expect(rooms.lastExpiryVisits == 0)
        // 30 s on, the first 10 rooms' peers have been silent for the timeout.
        let ended = rooms.expire(now: Self.t0 + 30_009)
        #expect(ended.count == 10)
        #expect(rooms.lastExpiryVisits == 10)
        #expect(rooms.liveRoomCount == 1990)
        #expect(rooms.livePeerCount == 1990)
    }

    @Test func aRoomHeardFromAgainIsRescheduledNotEnded() throws {
        let rooms = registry()
        _ = try post(rooms, "r", "a", seq: 1, at: Self.t0)
        _ = try post(rooms, "r", "b", seq: 1, at: Self.t0 + 10_000)
        _ = try post(rooms, "r", "a", seq: 2, at: Self.t0 + 20_000)
        #expect(rooms.expire(now: Self.t0 + 30_000).isEmpty)  // early entry: a spoke at +20 s
        #expect(rooms.lastExpiryVisits == 1)
        #expect(rooms.expire(now: Self.t0 + 39_999).isEmpty)
        #expect(rooms.room(id: "r")?.peer("b")?.isPresent == true)
        #expect(rooms.expire(now: Self.t0 + 40_000).isEmpty)  // b times out; a is still there
        #expect(rooms.room(id: "r")?.peer("b")?.isPresent == false)
        let ended = rooms.expire(now: Self.t0 + 50_000)
        #expect(ended.map(\.id) == ["r"])
        #expect(ended.first?.endTime == Self.t0 + 20_000)
    }

    @Test func livePeersAboveTheGlobalCapAre503AndNothingAcceptedIsDropped() throws {
        let rooms = registry { $0.maxLivePeers = 3 }
        for peer in ["a", "b", "c"] { _ = try post(rooms, "r\(peer)", peer, seq: 1, at: Self.t0) }
        #expect(throws: RoomError.tooManyPeers(limit: 3)) { try post(rooms, "r4", "d", seq: 1, at: Self.t0) }
        #expect(throws: RoomError.tooManyPeers(limit: 3)) { try post(rooms, "ra", "e", seq: 1, at: Self.t0) }
        #expect(rooms.liveRoomCount == 3)  // the refused request opened no room
        #expect(try post(rooms, "ra", "a", seq: 2, at: Self.t0 + 1000).accepted == 1)  // existing peers go on
        // A room ends: its peers no longer count.
        _ = rooms.leave(roomID: "rb", peerID: "b", arrival: Self.t0 + 2000)
        #expect(rooms.livePeerCount == 2)
        #expect(try post(rooms, "r4", "d", seq: 1, at: Self.t0 + 3000).accepted == 1)
    }

    @Test func customKeysOverThePerPeerBudgetAreRefusedWhole() throws {
        let rooms = registry { $0.maxKeyBytesPerPeer = 64 }
        _ = try post(rooms, "r", "p", seq: 1, at: Self.t0, keys: [("tier", .string("gold")), ("region", .string("eu"))])
        #expect(throws: RoomError.keysOverBudget(keys: 3, bytes: 4 + 4 + 6 + 2 + 5 + 60, maxKeys: Peer.maxKeys, maxBytes: 64)) {
            try post(rooms, "r", "p", seq: 2, at: Self.t0 + 1000, keys: [("notes", .string(String(repeating: "x", count: 60)))])
        }
        // Refused whole: neither its sample nor its keys were applied.
        #expect(try post(rooms, "r", "p", seq: 2, at: Self.t0 + 2000).accepted == 1)
        #expect(rooms.room(id: "r")?.peer("p")?.keys.count == 2)
        // Replacing a value within the budget is fine.
        _ = try post(rooms, "r", "p", seq: 3, at: Self.t0 + 3000, keys: [("tier", .string("platinum"))])
        #expect(rooms.room(id: "r")?.peer("p")?.keys["tier"] == .string("platinum"))
        let many = (0...Peer.maxKeys).map { ("k\($0)", IngestBatch.KeyValue.string("v")) }
        #expect(throws: RoomError.self) { try post(rooms, "r2", "q", seq: 1, at: Self.t0, keys: many) }
        #expect(rooms.room(id: "r2") == nil)
    }
}
