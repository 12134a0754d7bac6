#if canImport(Glibc)
import Glibc
#endif
import Foundation
import RoomstreamCore

/// The records of ended rooms not yet sealed by every stream, on disk
/// (`data/rooms/ended/<end ms>-<instance>-<n>.json`, each written durably), so a restart
/// between a room's end and its window's seal loses nothing: the next seal reads them here.
public struct EndedRoomJournal: Sendable {
    public let directory: String

    public init(directory: String) { self.directory = directory }

    /// Writes each room's record (as data stream files carry it). Names sort by end time.
    public func record(_ rooms: [Room], publicURL: String) throws(StreamError) {
        guard !rooms.isEmpty else { return }
        try DurableFile.makeDirectories(directory)
        for room in rooms {
            let end = Int64((room.endTime ?? 0).rounded(.down))
            let file = try DurableFile(path: "\(directory)/\(String(format: "%015lld", end))-\(room.instance)-\(abs(room.id.hashValue % 1_000_000)).json")
            try file.write(Array(RoomRecord.json(room, publicURL: publicURL).utf8))
            try file.commit()
        }
    }

    private func entries() -> [(end: Int64, name: String)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.compactMap { name in
            guard name.hasSuffix(".json"), let end = Int64(name.prefix { $0 != "-" }) else { return nil }
            return (end, name)
        }.sorted { ($0.end, $0.name) < ($1.end, $1.name) }
    }

    /// The records of rooms that ended in `[from, to)` (epoch ms), by end time.
    public func records(endingFrom from: Int64, to: Int64) throws(StreamError) -> [String] {
        var records: [String] = []
        for entry in entries() where entry.end >= from && entry.end < to {
            let path = "\(directory)/\(entry.name)"
            guard let data = FileManager.default.contents(atPath: path) else { throw .io(operation: "read", path: path, errno: errno) }
            records.append(String(decoding: data, as: UTF8.self))
        }
        return records
    }

    /// Deletes the records of rooms that ended before `time`: every stream has sealed them.
    public func release(endedBefore time: Int64) {
        for entry in entries() where entry.end < time { unlink("\(directory)/\(entry.name)") }
    }
}
