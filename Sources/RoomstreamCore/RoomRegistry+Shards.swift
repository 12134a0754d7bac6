import HeapModule
import RoomstreamBasics

/// The registry's state: live rooms in shards, ended rooms in one place.
///
/// Locks, always taken in this order: shard locks (ascending index), then `ended`, then the
/// log's own. A request takes the one shard of its room id; it takes `ended` as well only when
/// it needs the ended rooms (its room is not live, so which instance ended last decides which
/// items are late; or it ends its room) and then appends its log record inside that lock, so
/// the log holds every change of the ended state in the order it happened. Expiry and the
/// checkpoint's snapshot take every lock. Replaying the log in LSN order therefore rebuilds
/// the same state: records of different shards touch different rooms, and the order of
/// everything shared is the log's.
extension RoomRegistry {
    /// Fixed: a room's shard, and so the instance numbers it gets, depend on it.
    static let shardCount = 16

    struct Shard: Sendable {
        var live: [String: Room] = [:]
        /// When each live room may next lose a peer to the timeout, earliest first: `expire`
        /// visits only rooms whose deadline passed, never every live room. One entry per live
        /// room (`Room.expiryScheduled`); an entry may be early (the peers were heard from
        /// since), then the room is scheduled again; entries of rooms that ended are skipped.
        var expiry = Heap<ExpiryEntry>()
        /// The next instance number a room of this shard gets; shard `i` hands out numbers
        /// congruent to `first + i` modulo `shardCount`, so they never collide across shards.
        var nextInstance: Int
        /// Peers in this shard's live rooms.
        var livePeers = 0
        /// Sum of this shard's live rooms' `accountedBytes`.
        var liveRoomBytes = 0

        init(nextInstance: Int) { self.nextInstance = nextInstance }

        /// Heap bytes: the rooms (their peers, accumulators, keys), the dictionary's buckets and
        /// the expiry queue.
        var liveStateBytes: Int {
            liveRoomBytes + MemoryFootprint.dictionary(live) + MemoryFootprint.allocation(32 + expiry.count * MemoryLayout<ExpiryEntry>.stride)
        }
    }

    struct Ended: Sendable {
        var endedByID: [String: [Room]] = [:]
        /// (id, instance) of ended rooms, oldest first, for eviction.
        var endedOrder: [(id: String, instance: Int)] = []
        var endedOrderStart = 0
        var endedCount = 0
        var droppedEndedRooms = 0
        /// Rooms ended since the last `takeNewlyEnded()` (the data streams journal them).
        var newlyEnded: [Room] = []
        var droppedUnjournaledRooms = 0
        /// Rooms `expire` looked at in its last call (tests check it is not every room).
        var lastExpiryVisits = 0
    }

    struct ExpiryEntry: Comparable, Sendable {
        var deadline: Double
        var roomID: String
        var instance: Int
        static func < (a: ExpiryEntry, b: ExpiryEntry) -> Bool { a.deadline < b.deadline }
        static func == (a: ExpiryEntry, b: ExpiryEntry) -> Bool { a.deadline == b.deadline && a.roomID == b.roomID && a.instance == b.instance }
    }

    /// A room id's shard: FNV-1a over its UTF-8 bytes, stable across runs and builds (the
    /// standard library's `Hasher` is seeded per process).
    static func shardIndex(_ roomID: String) -> Int {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in roomID.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return Int(hash % UInt64(shardCount))
    }

    static func makeShards(firstInstance: Int) -> [Locked<Shard>] {
        (0..<shardCount).map { Locked(Shard(nextInstance: firstInstance + $0)) }
    }

    /// Runs `body` with every shard locked (ascending) and then the ended state: a consistent
    /// cut for expiry and snapshots. Each shard's value is moved out while its lock is held and
    /// moved back before the lock is released, so `body` mutates them without copies.
    func withEverything<Result>(_ body: (inout [Shard], inout Ended) -> Result) -> Result {
        var taken: [Shard] = []
        taken.reserveCapacity(shards.count)
        return lockShards(from: 0, &taken, body)
    }

    private func lockShards<Result>(from index: Int, _ taken: inout [Shard], _ body: (inout [Shard], inout Ended) -> Result) -> Result {
        guard index < shards.count else { return ended.withLock { ended in body(&taken, &ended) } }
        return shards[index].withLock { shard in
            taken.append(Shard(nextInstance: 0))
            swap(&shard, &taken[index])
            defer { swap(&shard, &taken[index]) }
            return lockShards(from: index + 1, &taken, body)
        }
    }

    /// Adds what an operation changed in a shard to the totals the bounds are checked against.
    func account(_ before: (rooms: Int, peers: Int, bytes: Int), _ shard: Shard) {
        let rooms = shard.live.count - before.rooms, peers = shard.livePeers - before.peers, bytes = shard.liveStateBytes - before.bytes
        if rooms != 0 { totalLiveRooms.wrappingAdd(rooms, ordering: .relaxed) }
        if peers != 0 { totalLivePeers.wrappingAdd(peers, ordering: .relaxed) }
        if bytes != 0 { totalLiveStateBytes.wrappingAdd(bytes, ordering: .relaxed) }
    }

    static func counts(_ shard: Shard) -> (rooms: Int, peers: Int, bytes: Int) {
        (shard.live.count, shard.livePeers, shard.liveStateBytes)
    }
}
