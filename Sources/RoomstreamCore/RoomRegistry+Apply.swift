/// The changes themselves, on one shard's state (and the ended state where named), with time
/// as a parameter: the same code applies a request and replays its log record.
extension RoomRegistry {
    /// Applies a request to its room's shard. `previous` is the last ended instance of the
    /// room when it is not live (read under the ended state's lock). Returns the outcome and the
    /// room, if the request ended it (the caller remembers it under the ended state's lock).
    func applyIngest(roomID: String, peerID: String, batch: IngestBatch, arrival: Double, userAgent: String?, previous: Room?,
                     in shard: inout Shard, enforceBounds: Bool) throws(RoomError) -> (IngestOutcome, Room?) {
        var outcome = IngestOutcome()
        var batch = batch
        if shard.live[roomID] == nil, let previous, let end = previous.endTime {
            // The room ended: items timed before its end are late; the rest start a new room.
            let offset = previous.peer(peerID)?.clockOffsetMilliseconds ?? batch.latestTimestamp.map { arrival - $0 } ?? 0
            let before = batch.events.count + batch.samples.count
            batch.events.removeAll { $0.ts + offset <= end }
            batch.samples.removeAll { $0.ts + offset <= end }
            outcome.late = before - batch.events.count - batch.samples.count
            if batch.events.isEmpty && batch.samples.isEmpty && outcome.late > 0 { return (outcome, nil) }
        }
        if shard.live[roomID] == nil {
            guard !enforceBounds || totalLiveRooms.load(ordering: .relaxed) < configuration.maxLiveRooms else {
                throw .tooManyRooms(limit: configuration.maxLiveRooms)
            }
            shard.live[roomID] = Room(id: roomID, instance: shard.nextInstance)
            shard.nextInstance += Self.shardCount
        }
        // Rooms are mutated in place through the dictionary (optional chaining), never
        // copied out and written back: a copy would duplicate every peer's arrays.
        if !batch.keys.isEmpty {
            let usage = (shard.live[roomID]?.peer(peerID) ?? Peer(id: peerID)).keyUsage(after: batch)
            guard usage.count <= Peer.maxKeys, usage.bytes <= configuration.maxKeyBytesPerPeer else {
                if shard.live[roomID]?.peerCount == 0 { shard.live[roomID] = nil }
                throw .keysOverBudget(keys: usage.count, bytes: usage.bytes, maxKeys: Peer.maxKeys, maxBytes: configuration.maxKeyBytesPerPeer)
            }
        }
        let existed = shard.live[roomID]?.hasPeer(peerID) ?? false
        if !existed {
            let full = (shard.live[roomID]?.peerCount ?? 0) >= configuration.maxPeersPerRoom
            let overState = enforceBounds && totalLiveStateBytes.load(ordering: .relaxed) >= configuration.maxLiveStateBytes
            let overPeers = enforceBounds && totalLivePeers.load(ordering: .relaxed) >= configuration.maxLivePeers
            if full || overPeers || overState {
                if shard.live[roomID]?.peerCount == 0 { shard.live[roomID] = nil }
                if full { throw .roomFull(limit: configuration.maxPeersPerRoom) }
                throw overState ? .liveStateFull(limitBytes: configuration.maxLiveStateBytes) : .tooManyPeers(limit: configuration.maxLivePeers)
            }
        }
        let peersBefore = shard.live[roomID]?.peerCount ?? 0
        // Only this peer and the room's own storage change: O(one peer), not O(room). The peer
        // is measured in place, before and after, never copied out.
        var peerBytesBefore = 0, peerBytesAfter = 0
        let ownBytesBefore = shard.live[roomID]?.ownHeapBytes ?? 0
        let result = shard.live[roomID]?.withPeer(peerID, create: true) { peer in
            if existed { peerBytesBefore = peer.heapBytes }
            defer { peerBytesAfter = peer.heapBytes }
            return peer.apply(batch, arrival: arrival, defaultUserAgent: userAgent)
        } ?? nil
        shard.livePeers += (shard.live[roomID]?.peerCount ?? 0) - peersBefore
        let bytesBefore = ownBytesBefore + peerBytesBefore
        let bytesAfter = (shard.live[roomID]?.ownHeapBytes ?? 0) + peerBytesAfter
        shard.live[roomID]?.accountedBytes += bytesAfter - bytesBefore
        shard.liveRoomBytes += bytesAfter - bytesBefore
        outcome.accepted = result?.accepted ?? 0
        outcome.duplicates = result?.duplicates ?? 0
        if shard.live[roomID]?.orderedPeers.allSatisfy({ $0.firstActivity == nil }) == true {
            // Nothing timed arrived (no events, no samples): do not open an empty room.
            shard.livePeers -= shard.live[roomID]?.peerCount ?? 0
            shard.liveRoomBytes -= shard.live[roomID]?.accountedBytes ?? 0
            shard.live[roomID] = nil
            return (outcome, nil)
        }
        Self.schedule(roomID, deadline: arrival + configuration.peerTimeoutSeconds * 1000, in: &shard)
        return (outcome, Self.endIfEmpty(roomID, in: &shard))
    }

    /// nil when the peer is not in a live room (nothing to log).
    static func applyLeave(roomID: String, peerID: String, arrival: Double, in shard: inout Shard) -> (outcome: IngestOutcome, endedRoom: Room?)? {
        guard let peer = shard.live[roomID]?.peer(peerID) else { return nil }
        var batch = IngestBatch()
        batch.events = [IngestBatch.Event(ts: arrival - (peer.clockOffsetMilliseconds ?? 0), kind: .leave)]
        let result = shard.live[roomID]?.withPeer(peerID, create: false) { $0.apply(batch, arrival: arrival, defaultUserAgent: nil) } ?? nil
        let endedRoom = endIfEmpty(roomID, in: &shard)
        return (IngestOutcome(accepted: result?.accepted ?? 0, duplicates: 0, late: 0), endedRoom)
    }

    /// Gives a live room an expiry entry unless it has one. Every present peer was heard from
    /// at or after the deadline's arrival − timeout, so the entry is never late.
    static func schedule(_ roomID: String, deadline: Double, in shard: inout Shard) {
        guard let room = shard.live[roomID], !room.expiryScheduled else { return }
        shard.live[roomID]?.expiryScheduled = true
        shard.expiry.insert(ExpiryEntry(deadline: deadline, roomID: roomID, instance: room.instance))
    }

    /// Every shard's rooms whose deadline passed; the rooms that ended are remembered oldest
    /// end first.
    func applyExpire(now: Double, shards: inout [Shard], ended: inout Ended) -> [Room] {
        let timeout = configuration.peerTimeoutSeconds * 1000
        let cutoff = now - timeout
        var endedRooms: [Room] = []
        var visits = 0
        for index in shards.indices {
            while let entry = shards[index].expiry.min, entry.deadline <= now {
                shards[index].expiry.removeMin()
                guard let room = shards[index].live[entry.roomID], room.instance == entry.instance else { continue }  // ended since
                visits += 1
                shards[index].live[entry.roomID]?.expiryScheduled = false
                shards[index].live[entry.roomID]?.expirePeers(silentSince: cutoff)
                if let room = Self.endIfEmpty(entry.roomID, in: &shards[index]) {
                    endedRooms.append(room)
                } else if let earliest = shards[index].live[entry.roomID]?.earliestPresentArrival {
                    Self.schedule(entry.roomID, deadline: earliest + timeout, in: &shards[index])
                }
            }
        }
        ended.lastExpiryVisits = visits
        endedRooms.sort { ($0.endTime ?? 0) < ($1.endTime ?? 0) }
        for room in endedRooms { Self.remember(room, in: &ended, limit: configuration.maxEndedRooms) }
        return endedRooms
    }

    /// Removes the room from the shard if it has ended; returns it.
    static func endIfEmpty(_ roomID: String, in shard: inout Shard) -> Room? {
        guard shard.live[roomID]?.endIfEmpty() == true, let room = shard.live.removeValue(forKey: roomID) else { return nil }
        shard.livePeers -= room.peerCount
        shard.liveRoomBytes -= room.accountedBytes
        return room
    }

    static func remember(_ room: Room, in state: inout Ended, limit: Int) {
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

    static func applyRelease(endedBefore time: Double, in state: inout Ended) -> Int {
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
}
