import HeapModule
import RoomstreamBasics
import Synchronization

/// Bounds and timing of the live state.
public struct RoomRegistryConfiguration: Sendable, Equatable {
    /// A peer silent this long has left (ingest.peer_timeout_seconds).
    public var peerTimeoutSeconds: Double = 30
    /// Live rooms at once; a request that would open one more gets `.tooManyRooms` (503).
    public var maxLiveRooms = 100_000
    /// Peers in live rooms at once (each holds its accumulators in memory until its room
    /// ends); a request that would add one more gets `.tooManyPeers` (503).
    public var maxLivePeers = 1_000_000
    /// Heap bytes of the live rooms (`ingest.max_live_state_mib`, measured by
    /// `MemoryFootprint`); at it a request that would add a peer gets `.liveStateFull` (503).
    /// Peers already live continue: each one's growth is bounded (16 connections × 64
    /// streams, the key budget).
    public var maxLiveStateBytes = 2 << 30
    /// Bytes of custom key names and values one peer may hold (`ingest.max_key_bytes_per_peer`);
    /// a request that would take a peer over it, or over `Peer.maxKeys` keys, is refused
    /// whole (`.keysOverBudget`, 400): nothing is dropped silently.
    public var maxKeyBytesPerPeer = 4096
    /// Peers per room; one more gets `.roomFull` (409).
    public var maxPeersPerRoom = 1000
    /// Ended rooms kept for queries (and, later, data streams); beyond it the oldest are
    /// dropped and counted in `droppedEndedRooms`.
    public var maxEndedRooms = 100_000
    public init() {}
}

/// Why an ingest request cannot be applied; mapped to HTTP statuses in the app's one mapping.
public enum RoomError: Error, Equatable, Sendable {
    case tooManyRooms(limit: Int)
    case tooManyPeers(limit: Int)
    case liveStateFull(limitBytes: Int)
    case roomFull(limit: Int)
    /// The peer's custom keys would exceed the per-peer budget: `keys` and `bytes` after the
    /// request, against `maxKeys` and `maxBytes`.
    case keysOverBudget(keys: Int, bytes: Int, maxKeys: Int, maxBytes: Int)
}

/// Everything a registry holds, as a checkpoint stores it.
public struct RegistrySnapshot: Sendable, Codable {
    public var live: [Room]
    /// Ended rooms still held (for queries and late-item detection), oldest first.
    public var ended: [Room]
    /// Ended rooms the data streams have not journaled yet.
    public var newlyEnded: [Room]
    public var nextInstance: Int
    public var droppedEndedRooms: Int
    public var droppedUnjournaledRooms: Int
    /// The LSN of the last write-ahead-log record this state includes: replay starts after it.
    public var logPosition: UInt64?

    enum CodingKeys: String, CodingKey {
        case live, ended, nextInstance = "next_instance", logPosition = "log_position"
        case newlyEnded = "newly_ended", droppedEndedRooms = "dropped_ended_rooms", droppedUnjournaledRooms = "dropped_unjournaled_rooms"
    }
}

/// What one ingest request did.
public struct IngestOutcome: Sendable, Equatable {
    /// Samples and events applied.
    public var accepted = 0
    /// Samples whose `seq` had already been accepted.
    public var duplicates = 0
    /// Items timed before the end of a room that had already ended when they arrived: they
    /// are acknowledged (so the SDK stops retrying) but not applied to any room.
    public var late = 0
    /// The request's write-ahead-log record (or, when it changed nothing, the last record
    /// before it): its 2xx waits until the log has that far. Nil without a log.
    public var logPosition: UInt64?

    public init(accepted: Int = 0, duplicates: Int = 0, late: Int = 0, logPosition: UInt64? = nil) {
        self.accepted = accepted
        self.duplicates = duplicates
        self.late = late
        self.logPosition = logPosition
    }
}

/// All rooms, live and recently ended. Thread-safe: live rooms are sharded by room id, each
/// shard behind its own lock held for the (short) apply, so requests for different rooms on
/// different event loops do not wait for each other; decoding happens before, outside any
/// lock. The global bounds (live rooms, peers, bytes) are checked against totals the shards
/// add to, so requests applied at the same instant on different loops can pass a bound by one
/// room or peer each. Locking and log order: `RoomRegistry+Shards.swift`.
public final class RoomRegistry: Sendable {
    public let configuration: RoomRegistryConfiguration
    /// Every change is appended here, in apply order per room and in the ended state's order
    /// (nil: no log).
    public let log: (any RegistryLog)?

    let shards: [Locked<Shard>]
    let ended = Locked(Ended())
    let totalLiveRooms = Atomic<Int>(0)
    let totalLivePeers = Atomic<Int>(0)
    let totalLiveStateBytes = Atomic<Int>(0)

    public init(configuration: RoomRegistryConfiguration = RoomRegistryConfiguration(), log: (any RegistryLog)? = nil) {
        self.configuration = configuration
        self.log = log
        shards = Self.makeShards(firstInstance: 1)
    }

    /// A registry continuing from a checkpoint: live rooms (every accumulator), ended rooms
    /// still held, rooms not yet journaled, and the instance counter.
    public init(configuration: RoomRegistryConfiguration = RoomRegistryConfiguration(), restoring snapshot: RegistrySnapshot, log: (any RegistryLog)? = nil) {
        self.configuration = configuration
        self.log = log
        shards = Self.makeShards(firstInstance: max(snapshot.nextInstance, 1))
        let timeout = configuration.peerTimeoutSeconds * 1000
        for var room in snapshot.live {
            room.expiryScheduled = false
            room.accountedBytes = room.heapBytes
            shards[Self.shardIndex(room.id)].withLock { shard in
                let before = Self.counts(shard)
                shard.liveRoomBytes += room.accountedBytes
                shard.livePeers += room.peerCount
                shard.live[room.id] = room
                // Every live room gets an expiry entry from its peers' last arrivals.
                if let earliest = room.earliestPresentArrival { Self.schedule(room.id, deadline: earliest + timeout, in: &shard) }
                account(before, shard)
            }
        }
        ended.withLock { ended in
            for room in snapshot.ended {
                ended.endedByID[room.id, default: []].append(room)
                ended.endedOrder.append((room.id, room.instance))
                ended.endedCount += 1
            }
            ended.newlyEnded = snapshot.newlyEnded
            ended.droppedEndedRooms = snapshot.droppedEndedRooms
            ended.droppedUnjournaledRooms = snapshot.droppedUnjournaledRooms
        }
    }

    /// The whole state as a value, for a checkpoint. Every lock is held only to copy the state
    /// (copy-on-write buffers: a few reference counts); the rooms are gathered from the copy
    /// after the locks are released.
    public func snapshot() -> RegistrySnapshot {
        // The LSN is read with every lock held, and every record is appended under one of
        // them: the copy holds exactly the records up to it.
        let (copies, endedCopy, position) = withEverything { shards, ended in (shards, ended, log?.lastAppended) }
        let endedRooms = endedCopy.endedOrder[endedCopy.endedOrderStart...].compactMap { entry in
            endedCopy.endedByID[entry.id]?.first { $0.instance == entry.instance }
        }
        // Restoring hands shard i `nextInstance + i` onwards: the largest next number leaves
        // room for every instance handed out.
        let nextInstance = copies.map(\.nextInstance).max() ?? 1
        return RegistrySnapshot(live: copies.flatMap(\.live.values), ended: endedRooms, newlyEnded: endedCopy.newlyEnded, nextInstance: nextInstance,
                                droppedEndedRooms: endedCopy.droppedEndedRooms, droppedUnjournaledRooms: endedCopy.droppedUnjournaledRooms, logPosition: position)
    }

    /// Applies a validated request for `peerID` in `roomID` that arrived at service time `arrival` (epoch ms).
    public func ingest(roomID: String, peerID: String, batch: IngestBatch, arrival: Double, userAgent: String?) throws(RoomError) -> IngestOutcome {
        // Encoded before the lock; appended under it only when the request was applied.
        let record = log.map { _ in RegistryLogRecord.ingest(roomID: roomID, peerID: peerID, batch: batch, arrival: arrival, userAgent: userAgent).encoded() }
        return try ingest(roomID: roomID, peerID: peerID, batch: batch, arrival: arrival, userAgent: userAgent, enforceBounds: true, record: record)
    }

    private func ingest(roomID: String, peerID: String, batch: IngestBatch, arrival: Double, userAgent: String?,
                        enforceBounds: Bool, record: [UInt8]?) throws(RoomError) -> IngestOutcome {
        try shards[Self.shardIndex(roomID)].withLock { shard throws(RoomError) -> IngestOutcome in
            try ingestLocked(roomID: roomID, peerID: peerID, batch: batch, arrival: arrival, userAgent: userAgent, in: &shard, enforceBounds: enforceBounds, record: record)
        }
    }

    /// Under the room's shard lock: applies, then remembers the room if it ended and appends
    /// the record, both under the ended state's lock when the ended state was involved.
    private func ingestLocked(roomID: String, peerID: String, batch: IngestBatch, arrival: Double, userAgent: String?,
                              in shard: inout Shard, enforceBounds: Bool, record: [UInt8]?) throws(RoomError) -> IngestOutcome {
        let before = Self.counts(shard)
        defer { account(before, shard) }
        if shard.live[roomID] == nil {
            // Which instance of the room ended last decides which items are late: the ended
            // state stays locked until the record is appended.
            return try ended.withLock { ended throws(RoomError) -> IngestOutcome in
                let (outcome, endedRoom) = try applyIngest(roomID: roomID, peerID: peerID, batch: batch, arrival: arrival, userAgent: userAgent,
                                                           previous: ended.endedByID[roomID]?.last, in: &shard, enforceBounds: enforceBounds)
                if let endedRoom { Self.remember(endedRoom, in: &ended, limit: configuration.maxEndedRooms) }
                return appended(record, outcome)
            }
        }
        let (outcome, endedRoom) = try applyIngest(roomID: roomID, peerID: peerID, batch: batch, arrival: arrival, userAgent: userAgent,
                                                   previous: nil, in: &shard, enforceBounds: enforceBounds)
        return finish(outcome, endedRoom: endedRoom, record: record)
    }

    /// Remembers a room that ended and appends the record under the ended state's lock (so
    /// the log orders it with every other change there), or just appends.
    private func finish(_ outcome: IngestOutcome, endedRoom: Room?, record: [UInt8]?) -> IngestOutcome {
        guard let endedRoom else { return appended(record, outcome) }
        return ended.withLock { ended in
            Self.remember(endedRoom, in: &ended, limit: configuration.maxEndedRooms)
            return appended(record, outcome)
        }
    }

    private func appended(_ record: [UInt8]?, _ outcome: IngestOutcome) -> IngestOutcome {
        guard let log, let record else { return outcome }
        var outcome = outcome
        outcome.logPosition = log.append(record)
        return outcome
    }

    /// Applies a record read back from the write-ahead log (after a restart), without logging
    /// it again. The global bounds are not applied: the live registry already admitted what it
    /// logged (and refused what it did not log), so everything acknowledged comes back. A
    /// per-room refusal is returned (none happens unless the configuration changed).
    @discardableResult
    public func replay(_ record: RegistryLogRecord) -> RoomError? {
        switch record {
        case .ingest(let roomID, let peerID, let batch, let arrival, let userAgent):
            do throws(RoomError) {
                _ = try ingest(roomID: roomID, peerID: peerID, batch: batch, arrival: arrival, userAgent: userAgent, enforceBounds: false, record: nil)
            } catch {
                return error
            }
        case .leave(let roomID, let peerID, let arrival):
            _ = leave(roomID: roomID, peerID: peerID, arrival: arrival, record: nil)
        case .expire(let now):
            _ = expire(now: now, logging: false)
        case .release(let time):
            ended.withLock { ended in _ = Self.applyRelease(endedBefore: time, in: &ended) }
        }
        return nil
    }

    /// `POST …/leave`: the same as a `leave` event sent at `arrival`. No effect (0 accepted)
    /// when the peer is not in a live room.
    public func leave(roomID: String, peerID: String, arrival: Double) -> IngestOutcome {
        let record = log.map { _ in RegistryLogRecord.leave(roomID: roomID, peerID: peerID, arrival: arrival).encoded() }
        return leave(roomID: roomID, peerID: peerID, arrival: arrival, record: record)
    }

    private func leave(roomID: String, peerID: String, arrival: Double, record: [UInt8]?) -> IngestOutcome {
        shards[Self.shardIndex(roomID)].withLock { shard in
            let before = Self.counts(shard)
            defer { account(before, shard) }
            guard let result = Self.applyLeave(roomID: roomID, peerID: peerID, arrival: arrival, in: &shard) else {
                // Nothing changed; a 2xx still waits for whatever was logged before it.
                return IngestOutcome(logPosition: log?.lastAppended)
            }
            return finish(result.outcome, endedRoom: result.endedRoom, record: record)
        }
    }

    /// Peers silent for the peer timeout leave; rooms left empty end. Returns the rooms that
    /// ended. Visits only the rooms whose expiry deadline passed (a heap per shard keyed by
    /// deadline), so the locks are held for work proportional to what expires, not to every
    /// live peer.
    @discardableResult
    public func expire(now: Double) -> [Room] { expire(now: now, logging: true) }

    private func expire(now: Double, logging: Bool) -> [Room] {
        withEverything { shards, ended in
            let before = shards.map(Self.counts)
            let endedRooms = applyExpire(now: now, shards: &shards, ended: &ended)
            for (index, counts) in before.enumerated() { account(counts, shards[index]) }
            // A pass that looked at no room changed nothing: not worth a record.
            if logging, ended.lastExpiryVisits > 0, let log { _ = log.append(RegistryLogRecord.expire(now: now).encoded()) }
            return endedRooms
        }
    }

    /// Peers in live rooms.
    public var livePeerCount: Int { totalLivePeers.load(ordering: .relaxed) }

    /// Heap bytes of the live state: the rooms (their peers, accumulators, keys), the live
    /// dictionaries' buckets and the expiry queues.
    public var liveStateBytes: Int { totalLiveStateBytes.load(ordering: .relaxed) }

    var lastExpiryVisits: Int { ended.withLock { $0.lastExpiryVisits } }
}
