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

/// All rooms, live and recently ended. Thread-safe: every method takes one lock for the
/// (short) apply; decoding happens before, outside the lock.
public final class RoomRegistry: Sendable {
    public let configuration: RoomRegistryConfiguration
    /// Every change is appended here, under the lock, in apply order (nil: no log).
    public let log: (any RegistryLog)?

    struct State: Sendable {
        var live: [String: Room] = [:]
        var endedByID: [String: [Room]] = [:]
        /// (id, instance) of ended rooms, oldest first, for eviction.
        var endedOrder: [(id: String, instance: Int)] = []
        var endedOrderStart = 0
        var endedCount = 0
        var nextInstance = 1
        var droppedEndedRooms = 0
        /// Rooms ended since the last `takeNewlyEnded()` (the data streams journal them).
        var newlyEnded: [Room] = []
        /// Peers in live rooms.
        var livePeers = 0
        /// Sum of the live rooms' `accountedBytes`.
        var liveRoomBytes = 0
        /// When each live room may next lose a peer to the timeout, earliest first: `expire`
        /// visits only rooms whose deadline passed, never every live room. One entry per live
        /// room (`Room.expiryScheduled`); an entry may be early (the peers were heard from
        /// since), then the room is scheduled again; entries of rooms that ended are skipped.
        var expiry = Heap<ExpiryEntry>()
        /// Rooms `expire` looked at in its last call (tests check it is not every room).
        var lastExpiryVisits = 0
        var droppedUnjournaledRooms = 0
    }

    struct ExpiryEntry: Comparable, Sendable {
        var deadline: Double
        var roomID: String
        var instance: Int
        static func < (a: ExpiryEntry, b: ExpiryEntry) -> Bool { a.deadline < b.deadline }
        static func == (a: ExpiryEntry, b: ExpiryEntry) -> Bool { a.deadline == b.deadline && a.roomID == b.roomID && a.instance == b.instance }
    }

    let state = Locked(State())

    public init(configuration: RoomRegistryConfiguration = RoomRegistryConfiguration(), log: (any RegistryLog)? = nil) {
        self.configuration = configuration
        self.log = log
    }

    /// A registry continuing from a checkpoint: live rooms (every accumulator), ended rooms
    /// still held, rooms not yet journaled, and the instance counter.
    public init(configuration: RoomRegistryConfiguration = RoomRegistryConfiguration(), restoring snapshot: RegistrySnapshot, log: (any RegistryLog)? = nil) {
        self.configuration = configuration
        self.log = log
        state.withLock { state in
            for var room in snapshot.live {
                room.expiryScheduled = false
                room.accountedBytes = room.heapBytes
                state.liveRoomBytes += room.accountedBytes
                state.live[room.id] = room
                state.livePeers += room.peerCount
            }
            for room in snapshot.ended {
                state.endedByID[room.id, default: []].append(room)
                state.endedOrder.append((room.id, room.instance))
                state.endedCount += 1
            }
            state.newlyEnded = snapshot.newlyEnded
            state.nextInstance = max(snapshot.nextInstance, 1)
            state.droppedEndedRooms = snapshot.droppedEndedRooms
            state.droppedUnjournaledRooms = snapshot.droppedUnjournaledRooms
            // Every live room gets an expiry entry from its peers' last arrivals.
            let timeout = configuration.peerTimeoutSeconds * 1000
            for (id, room) in state.live {
                if let earliest = room.earliestPresentArrival { schedule(id, deadline: earliest + timeout, in: &state) }
            }
        }
    }

    /// The whole state as a value, for a checkpoint. The lock is held only to copy the state
    /// (copy-on-write buffers: a few reference counts); the rooms are gathered from the copy
    /// after the lock is released.
    public func snapshot() -> RegistrySnapshot {
        // The LSN is read under the registry's lock, where every record is appended: the copy
        // holds exactly the records up to it.
        let (copy, position) = state.withLock { ($0, log?.lastAppended) }
        let ended = copy.endedOrder[copy.endedOrderStart...].compactMap { entry in
            copy.endedByID[entry.id]?.first { $0.instance == entry.instance }
        }
        return RegistrySnapshot(live: Array(copy.live.values), ended: ended, newlyEnded: copy.newlyEnded, nextInstance: copy.nextInstance,
                                droppedEndedRooms: copy.droppedEndedRooms, droppedUnjournaledRooms: copy.droppedUnjournaledRooms, logPosition: position)
    }

    /// Applies a validated request for `peerID` in `roomID` that arrived at service time `arrival` (epoch ms).
    public func ingest(roomID: String, peerID: String, batch: IngestBatch, arrival: Double, userAgent: String?) throws(RoomError) -> IngestOutcome {
        // Encoded before the lock; appended under it only when the request was applied.
        let record = log.map { _ in RegistryLogRecord.ingest(roomID: roomID, peerID: peerID, batch: batch, arrival: arrival, userAgent: userAgent).encoded() }
        return try state.withLock { state throws(RoomError) -> IngestOutcome in
            var outcome = try applyIngest(roomID: roomID, peerID: peerID, batch: batch, arrival: arrival, userAgent: userAgent, in: &state)
            if let log, let record { outcome.logPosition = log.append(record) }
            return outcome
        }
    }

    /// Applies a record read back from the write-ahead log (after a restart), without logging
    /// it again. A record the live registry refused is never logged, so none fails here; the
    /// refusal a changed configuration could cause is returned.
    @discardableResult
    public func replay(_ record: RegistryLogRecord) -> RoomError? {
        state.withLock { state -> RoomError? in
            switch record {
            case .ingest(let roomID, let peerID, let batch, let arrival, let userAgent):
                do throws(RoomError) { _ = try applyIngest(roomID: roomID, peerID: peerID, batch: batch, arrival: arrival, userAgent: userAgent, in: &state) } catch { return error }
            case .leave(let roomID, let peerID, let arrival):
                _ = applyLeave(roomID: roomID, peerID: peerID, arrival: arrival, in: &state)
            case .expire(let now):
                _ = applyExpire(now: now, in: &state)
            case .release(let time):
                _ = applyRelease(endedBefore: time, in: &state)
            }
            return nil
        }
    }

    private func applyIngest(roomID: String, peerID: String, batch: IngestBatch, arrival: Double, userAgent: String?, in state: inout State) throws(RoomError) -> IngestOutcome {
        var outcome = IngestOutcome()
        var batch = batch
        if state.live[roomID] == nil, let previous = state.endedByID[roomID]?.last, let end = previous.endTime {
            // The room ended: items timed before its end are late; the rest start a new room.
            let offset = previous.peer(peerID)?.clockOffsetMilliseconds ?? batch.latestTimestamp.map { arrival - $0 } ?? 0
            let before = batch.events.count + batch.samples.count
            batch.events.removeAll { $0.ts + offset <= end }
            batch.samples.removeAll { $0.ts + offset <= end }
            outcome.late = before - batch.events.count - batch.samples.count
            if batch.events.isEmpty && batch.samples.isEmpty && outcome.late > 0 { return outcome }
        }
        if state.live[roomID] == nil {
            guard state.live.count < configuration.maxLiveRooms else { throw .tooManyRooms(limit: configuration.maxLiveRooms) }
            state.live[roomID] = Room(id: roomID, instance: state.nextInstance)
            state.nextInstance += 1
        }
        // Rooms are mutated in place through the dictionary (optional chaining), never
        // copied out and written back: a copy would duplicate every peer's arrays.
        if !batch.keys.isEmpty {
            let usage = (state.live[roomID]?.peer(peerID) ?? Peer(id: peerID)).keyUsage(after: batch)
            guard usage.count <= Peer.maxKeys, usage.bytes <= configuration.maxKeyBytesPerPeer else {
                if state.live[roomID]?.peerCount == 0 { state.live[roomID] = nil }
                throw .keysOverBudget(keys: usage.count, bytes: usage.bytes, maxKeys: Peer.maxKeys, maxBytes: configuration.maxKeyBytesPerPeer)
            }
        }
        let existing = state.live[roomID]?.peer(peerID)
        if existing == nil {
            let full = (state.live[roomID]?.peerCount ?? 0) >= configuration.maxPeersPerRoom
            let overState = Self.liveStateBytes(state) >= configuration.maxLiveStateBytes
            if full || state.livePeers >= configuration.maxLivePeers || overState {
                if state.live[roomID]?.peerCount == 0 { state.live[roomID] = nil }
                if full { throw .roomFull(limit: configuration.maxPeersPerRoom) }
                throw overState ? .liveStateFull(limitBytes: configuration.maxLiveStateBytes) : .tooManyPeers(limit: configuration.maxLivePeers)
            }
        }
        let peersBefore = state.live[roomID]?.peerCount ?? 0
        let bytesBefore = (state.live[roomID]?.ownHeapBytes ?? 0) + (existing?.heapBytes ?? 0)
        let result = state.live[roomID]?.withPeer(peerID, create: true) { $0.apply(batch, arrival: arrival, defaultUserAgent: userAgent) } ?? nil
        state.livePeers += (state.live[roomID]?.peerCount ?? 0) - peersBefore
        // Only this peer and the room's own storage changed: O(one peer), not O(room).
        let bytesAfter = (state.live[roomID]?.ownHeapBytes ?? 0) + (state.live[roomID]?.peer(peerID)?.heapBytes ?? 0)
        state.live[roomID]?.accountedBytes += bytesAfter - bytesBefore
        state.liveRoomBytes += bytesAfter - bytesBefore
        outcome.accepted = result?.accepted ?? 0
        outcome.duplicates = result?.duplicates ?? 0
        if state.live[roomID]?.orderedPeers.allSatisfy({ $0.firstActivity == nil }) == true {
            // Nothing timed arrived (no events, no samples): do not open an empty room.
            state.livePeers -= state.live[roomID]?.peerCount ?? 0
            state.liveRoomBytes -= state.live[roomID]?.accountedBytes ?? 0
            state.live[roomID] = nil
            return outcome
        }
        schedule(roomID, deadline: arrival + configuration.peerTimeoutSeconds * 1000, in: &state)
        endIfEmpty(roomID, in: &state)
        return outcome
    }

    /// `POST …/leave`: the same as a `leave` event sent at `arrival`. No effect (0 accepted)
    /// when the peer is not in a live room.
    public func leave(roomID: String, peerID: String, arrival: Double) -> IngestOutcome {
        let record = log.map { _ in RegistryLogRecord.leave(roomID: roomID, peerID: peerID, arrival: arrival).encoded() }
        return state.withLock { state in
            guard var outcome = applyLeave(roomID: roomID, peerID: peerID, arrival: arrival, in: &state) else {
                // Nothing changed; a 2xx still waits for whatever was logged before it.
                return IngestOutcome(logPosition: log?.lastAppended)
            }
            if let log, let record { outcome.logPosition = log.append(record) }
            return outcome
        }
    }

    /// nil when the peer is not in a live room (nothing to log).
    private func applyLeave(roomID: String, peerID: String, arrival: Double, in state: inout State) -> IngestOutcome? {
        guard let peer = state.live[roomID]?.peer(peerID) else { return nil }
        var batch = IngestBatch()
        batch.events = [IngestBatch.Event(ts: arrival - (peer.clockOffsetMilliseconds ?? 0), kind: .leave)]
        let result = state.live[roomID]?.withPeer(peerID, create: false) { $0.apply(batch, arrival: arrival, defaultUserAgent: nil) } ?? nil
        endIfEmpty(roomID, in: &state)
        return IngestOutcome(accepted: result?.accepted ?? 0, duplicates: 0, late: 0)
    }

    /// Gives a live room an expiry entry unless it has one. Every present peer was heard from
    /// at or after the deadline's arrival − timeout, so the entry is never late.
    private func schedule(_ roomID: String, deadline: Double, in state: inout State) {
        guard let room = state.live[roomID], !room.expiryScheduled else { return }
        state.live[roomID]?.expiryScheduled = true
        state.expiry.insert(ExpiryEntry(deadline: deadline, roomID: roomID, instance: room.instance))
    }

    /// Peers silent for the peer timeout leave; rooms left empty end. Returns the rooms that
    /// ended. Visits only the rooms whose expiry deadline passed (a heap keyed by deadline),
    /// so the lock is held for work proportional to what expires, not to every live peer.
    @discardableResult
    public func expire(now: Double) -> [Room] {
        state.withLock { state in
            let ended = applyExpire(now: now, in: &state)
            // A pass that looked at no room changed nothing: not worth a record.
            if state.lastExpiryVisits > 0, let log { _ = log.append(RegistryLogRecord.expire(now: now).encoded()) }
            return ended
        }
    }

    private func applyExpire(now: Double, in state: inout State) -> [Room] {
        let timeout = configuration.peerTimeoutSeconds * 1000
        let cutoff = now - timeout
        var ended: [Room] = []
        var visits = 0
        while let entry = state.expiry.min, entry.deadline <= now {
            state.expiry.removeMin()
            guard let room = state.live[entry.roomID], room.instance == entry.instance else { continue }  // ended since
            visits += 1
            state.live[entry.roomID]?.expiryScheduled = false
            state.live[entry.roomID]?.expirePeers(silentSince: cutoff)
            if state.live[entry.roomID]?.endIfEmpty() == true, let room = state.live.removeValue(forKey: entry.roomID) {
                state.livePeers -= room.peerCount
                state.liveRoomBytes -= room.accountedBytes
                ended.append(room)
            } else if let earliest = state.live[entry.roomID]?.earliestPresentArrival {
                schedule(entry.roomID, deadline: earliest + timeout, in: &state)
            }
        }
        state.lastExpiryVisits = visits
        for room in ended.sorted(by: { ($0.endTime ?? 0) < ($1.endTime ?? 0) }) {
            Self.remember(room, in: &state, limit: configuration.maxEndedRooms)
        }
        return ended
    }

    /// Peers in live rooms, and rooms the last `expire` looked at.
    public var livePeerCount: Int { state.withLock { $0.livePeers } }

    /// Heap bytes of the live state: the rooms (their peers, accumulators, keys), the live
    /// dictionary's buckets and the expiry queue.
    public var liveStateBytes: Int { state.withLock { Self.liveStateBytes($0) } }

    private static func liveStateBytes(_ state: State) -> Int {
        state.liveRoomBytes + MemoryFootprint.dictionary(state.live) + MemoryFootprint.allocation(32 + state.expiry.count * MemoryLayout<ExpiryEntry>.stride)
    }
    var lastExpiryVisits: Int { state.withLock { $0.lastExpiryVisits } }

    private func endIfEmpty(_ roomID: String, in state: inout State) {
        if state.live[roomID]?.endIfEmpty() == true, let room = state.live.removeValue(forKey: roomID) {
            state.livePeers -= room.peerCount
            state.liveRoomBytes -= room.accountedBytes
            Self.remember(room, in: &state, limit: configuration.maxEndedRooms)
        }
    }

    private static func remember(_ room: Room, in state: inout State, limit: Int) {
        state.newlyEnded.append(room)
        if state.newlyEnded.count > limit {
            state.droppedUnjournaledRooms += state.newlyEnded.count - limit
            state.newlyEnded.removeFirst(state.newlyEnded.count - limit)
        }
        state.endedByID[room.id, default: []].append(room)
        state.endedOrder.append((room.id, room.instance))
        state.endedCount += 1
        while state.endedCount > limit {
            let oldest = state.endedOrder[state.endedOrderStart]
            state.endedOrderStart += 1
            state.endedCount -= 1
            state.droppedEndedRooms += 1
            state.endedByID[oldest.id]?.removeAll { $0.instance == oldest.instance }
            if state.endedByID[oldest.id]?.isEmpty == true { state.endedByID[oldest.id] = nil }
        }
        // Reclaim the consumed prefix now and then instead of shifting on every eviction.
        if state.endedOrderStart > 1024 && state.endedOrderStart * 2 > state.endedOrder.count {
            state.endedOrder.removeFirst(state.endedOrderStart)
            state.endedOrderStart = 0
        }
    }
}
