/// The ended rooms the data streams take, and the queries.
extension RoomRegistry {
    /// The rooms that ended since the previous call, oldest first (at most `maxEndedRooms`).
    public func takeNewlyEnded() -> [Room] {
        state.withLock { state in
            defer { state.newlyEnded = [] }
            return state.newlyEnded
        }
    }

    /// Puts rooms taken by `takeNewlyEnded()` back, ahead of any that ended since, when they
    /// could not be journaled: the next take returns them again. Bounded like the list itself
    /// (`maxEndedRooms`); beyond it the oldest are dropped and counted in `droppedUnjournaledRooms`.
    public func restoreNewlyEnded(_ rooms: [Room]) {
        guard !rooms.isEmpty else { return }
        state.withLock { state in
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
    public var droppedUnjournaledRooms: Int { state.withLock { $0.droppedUnjournaledRooms } }

    /// Drops ended rooms that ended before `time`: every data stream has sealed them.
    @discardableResult
    public func releaseEndedRooms(endedBefore time: Double) -> Int {
        state.withLock { state in
            let released = applyRelease(endedBefore: time, in: &state)
            // Replay must see the same ended rooms (they decide which items are late).
            if released > 0, let log { _ = log.append(RegistryLogRecord.release(endedBefore: time).encoded()) }
            return released
        }
    }

    func applyRelease(endedBefore time: Double, in state: inout State) -> Int {
        var released = 0
        for id in Array(state.endedByID.keys) {
            let before = state.endedByID[id]?.count ?? 0
            state.endedByID[id]?.removeAll { ($0.endTime ?? 0) < time }
            let after = state.endedByID[id]?.count ?? 0
            released += before - after
            if after == 0 { state.endedByID[id] = nil }
        }
        guard released > 0 else { return 0 }
        state.endedCount -= released
        state.endedOrder = state.endedOrder[state.endedOrderStart...].filter { entry in
            state.endedByID[entry.id]?.contains { $0.instance == entry.instance } ?? false
        }
        state.endedOrderStart = 0
        return released
    }

    public var liveRooms: [Room] { state.withLock { Array($0.live.values) } }
    public var endedRooms: [Room] { state.withLock { $0.endedByID.values.flatMap { $0 } } }
    public var droppedEndedRooms: Int { state.withLock { $0.droppedEndedRooms } }
    public var liveRoomCount: Int { state.withLock { $0.live.count } }

    /// The newest instance of `roomID` (live first), or the one whose start time is `start`.
    public func room(id roomID: String, start: Double? = nil) -> Room? {
        state.withLock { state in
            var candidates = state.endedByID[roomID] ?? []
            if let live = state.live[roomID] { candidates.append(live) }
            if let start { return candidates.last { $0.startTime.map { abs($0 - start) < 0.5 } ?? false } }
            return candidates.last
        }
    }
}
