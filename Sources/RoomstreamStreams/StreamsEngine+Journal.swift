import RoomstreamBasics

/// The ended-room journal's side of a round: every room that ended is written to the journal
/// before any window is sealed from it.
extension StreamsEngine {
    /// Lists the journal (once, then kept in memory) and writes the rooms that ended since the
    /// last tick. Returns the entries, or nil while the journal cannot be listed or written (then
    /// nothing is sealed: a window sealed without those rooms would lose them). Rooms that could
    /// not be written go back to the registry and are written again at the next tick.
    func updateJournal() -> [EndedRoomJournal.Entry]? {
        if journalState.withLock({ $0.entries == nil }) {
            do {
                let listed = try journal.list()
                journalState.withLock { $0.entries = listed }
            } catch {
                failJournal("list the ended-room journal: \(error)", fields: [:])
                return nil
            }
        }
        let ended = registry.takeNewlyEnded()
        do {
            let written = try journal.record(ended, publicURL: configuration.publicURL)
            return journalState.withLock { state in
                var merged = state.entries ?? []
                let names = Set(merged.map(\.name))
                merged += written.filter { !names.contains($0.name) }
                merged.sort()
                state.entries = merged
                state.lastError = nil
                return merged
            }
        } catch {
            registry.restoreNewlyEnded(ended)
            failJournal("write the ended-room journal (\(ended.count) rooms kept in memory, retried every second): \(error)",
                        fields: ["rooms": "\(ended.count)"])
            return nil
        }
    }

    func failJournal(_ message: String, fields: [String: String]) {
        let changed = journalState.withLock { state -> Bool in
            defer { state.lastError = message }
            return state.lastError != message
        }
        // Logged when it starts or changes, not every second.
        if changed { onEvent("journal failed", fields.merging(["error": message]) { $1 }) }
    }

    /// Index of the first entry whose room ended at or after `time` (entries are sorted).
    static func firstIndex(in entries: [EndedRoomJournal.Entry], endingAtOrAfter time: Int64) -> Int {
        var low = 0, high = entries.count
        while low < high {
            let middle = (low + high) / 2
            if entries[middle].end < time { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
