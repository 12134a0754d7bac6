import Foundation
import RoomstreamCore
@testable import RoomstreamStreams
import Testing

/// A crash in the middle of writing leaves a truncated temporary file beside the last complete
/// one (every state file is written to `<name>.tmp`, fsynced, then renamed). At every offset of
/// the interrupted write, a restart reads the last complete version and ignores the rest.
struct TornWriteTests {
    static func dataDirectory() throws -> String {
        let data = NSTemporaryDirectory() + "roomstream-torn-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        return data
    }

    /// Offsets to cut at: every one for small files, else every 1/97th plus both ends.
    static func offsets(_ count: Int) -> [Int] {
        count <= 512 ? Array(0..<count) : Array(Set(stride(from: 0, to: count, by: max(1, count / 97)) + [1, count - 1])).sorted()
    }

    @Test func aTornCheckpointLeavesTheLastOneReadable() throws {
        let data = try Self.dataDirectory()
        let registry = RoomRegistry()
        try RegistryCheckpointTests.feed(registry, seqs: 1...2)
        let checkpoint = RegistryCheckpoint(dataDirectory: data)
        try checkpoint.write(registry, now: 0)
        let complete = try Data(contentsOf: URL(fileURLWithPath: checkpoint.path))
        try RegistryCheckpointTests.feed(registry, seqs: 3...4)
        try checkpoint.write(registry, now: 1)
        let next = try Data(contentsOf: URL(fileURLWithPath: checkpoint.path))
        try complete.write(to: URL(fileURLWithPath: checkpoint.path))  // back to the first one
        let expected = RegistryCheckpointTests.records(RoomRegistry(restoring: try #require(try checkpoint.load())))
        for offset in Self.offsets(next.count) {
            try next.prefix(offset).write(to: URL(fileURLWithPath: checkpoint.path + ".tmp"))
            let restored = RoomRegistry(restoring: try #require(try checkpoint.load()))
            #expect(RegistryCheckpointTests.records(restored) == expected, "cut at \(offset) of \(next.count)")
        }
        // The next checkpoint replaces the leftover and the old file whole.
        try checkpoint.write(registry, now: 2)
        #expect(!FileManager.default.fileExists(atPath: checkpoint.path + ".tmp"))
        #expect(RegistryCheckpointTests.records(RoomRegistry(restoring: try #require(try checkpoint.load()))) == RegistryCheckpointTests.records(registry))
    }

    @Test func aTornJournalEntryIsNotListed() throws {
        let data = try Self.dataDirectory()
        let journal = EndedRoomJournal(directory: data + "/rooms/ended")
        let registry = RoomRegistry()
        try StreamsEngineTests.endRoom(registry, "whole", at: 1_662_296_709_000)
        try StreamsEngineTests.endRoom(registry, "torn", at: 1_662_296_710_000)
        let rooms = registry.takeNewlyEnded()
        let entries = try journal.record([rooms[0]], publicURL: "http://x")
        let record = Array(RoomRecord.json(rooms[1], publicURL: "http://x").utf8)
        let tornName = EndedRoomJournal.name(end: 1_662_296_710_000, roomID: "torn", start: rooms[1].startTime)
        for offset in Self.offsets(record.count) {
            try Data(record.prefix(offset)).write(to: URL(fileURLWithPath: "\(journal.directory)/\(tornName).tmp"))
            #expect(try journal.list() == entries, "cut at \(offset)")
        }
    }

    @Test func aTornStreamStateLeavesTheLastOneReadable() throws {
        let data = try Self.dataDirectory()
        let path = data + "/streams/s/state.json"
        var state = StreamState()
        state.lastSealedWindowEnd = 60_000
        try state.save(to: path)
        var next = state
        next.lastSealedWindowEnd = 120_000
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let bytes = try encoder.encode(next)
        for offset in Self.offsets(bytes.count) {
            try bytes.prefix(offset).write(to: URL(fileURLWithPath: path + ".tmp"))
            #expect(try StreamState.load(from: path)?.lastSealedWindowEnd == 60_000, "cut at \(offset)")
        }
    }
}
