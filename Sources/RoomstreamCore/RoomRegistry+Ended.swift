/// The ended rooms the data streams take, and the queries.
extension RoomRegistry {
    /// The rooms that ended since the previous call, oldest first (at most `maxEndedRooms`).
    public func takeNewlyEnded() -> [Room] {
        ended.withLock { state in
            defer { state.newlyEnded = [] }
            return state.newlyEnded
        }
    }

    /// Puts rooms taken by `takeNewlyEnded()` back, ahead of any that ended since, when they
    /// could not be journaled: the next take returns them again. Bounded like the list itself
    /// (`maxEndedRooms`); beyond it the oldest are dropped and counted in `droppedUnjournaledRooms`.
    public func restoreNewlyEnded(_ rooms: [Room]) {
        guard !rooms.isEmpty else { return }
        ended.withLock { state in
            state.newlyEnded = rooms + state.newlyEnded
            let excess = state.newlyEnded.count - configuration.maxEndedRooms
            if excess > 0 {
                state.newlyEnded.removeFirst(excess)
                state.droppedUnjournaledRooms += excess
            }
        }
    }

    /// Ended rooms dropped before they could be journaled (the journal kept failing while more
    /// than `maxEndedRooms` rooms ended).
    public var droppedUnjournaledRooms: Int { ended.withLock { $0.droppedUnjournaledRooms } }

    /// Drops ended rooms that ended before `time`: every data stream has sealed them.
    @discardableResult
    public func releaseEndedRooms(endedBefore time: Double) -> Int {
        // Only the ended state changes; every request that reads or changes it appends its
        // record under this same lock, so the log keeps their order.
        ended.withLock { state in
            let released = Self.applyRelease(endedBefore: time, in: &state)
            // Replay must see the same ended rooms (they decide which items are late).
            if released > 0, let log { _ = log.append(RegistryLogRecord.release(endedBefore: time).encoded()) }
            return released
        }
    }

    public var liveRooms: [Room] { shards.flatMap { shard in shard.withLock { Array($0.live.values) } } }
    public var endedRooms: [Room] { ended.withLock { $0.endedByID.values.flatMap { $0 } } }
    public var droppedEndedRooms: Int { ended.withLock { $0.droppedEndedRooms } }
    public var liveRoomCount: Int { totalLiveRooms.load(ordering: .relaxed) }

    /// The earliest end time a live room could still get (its last activity: a room ends at
    /// the last activity of its peers), or nil without live rooms. O(live rooms), one shard's
    /// lock at a time: for admin actions, not the request path.
    public func earliestPossibleEnd() -> Double? {
        var earliest: Double?
        for shard in shards {
            shard.withLock { state in
                for room in state.live.values {
                    let end = room.lastActivity ?? .infinity
                    earliest = min(earliest ?? end, end)
                }
            }
        }
        return earliest
    }
    public var endedRoomCount: Int { ended.withLock { $0.endedByID.values.reduce(0) { $0 + $1.count } } }

    /// The newest instance of `roomID` (live first), or the one whose start time is `start`.
    public func room(id roomID: String, start: Double? = nil) -> Room? {
        shards[Self.shardIndex(roomID)].withLock { shard in
            var candidates = ended.withLock { $0.endedByID[roomID] ?? [] }
            if let live = shard.live[roomID] { candidates.append(live) }
            if let start { return candidates.last { $0.startTime.map { abs($0 - start) < 0.5 } ?? false } }
            return candidates.last
        }
    }
}
