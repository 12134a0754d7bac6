#if canImport(Glibc)
import Glibc
#endif
import Foundation
import RoomstreamBasics
import RoomstreamCore

/// The records of ended rooms not yet sealed by every stream, on disk
/// (`data/rooms/ended/<end ms>-<room key>.json`, each written durably), so a restart between
/// a room's end and its window's seal loses nothing: the next seal reads them here. The room
/// key is a hash of the room id and start time, so a room instance always has the same name
/// (journaling it again after a failure overwrites, never duplicates) and two rooms never share
/// one. Every error is thrown: a journal that cannot be listed, read or written must never
/// look empty (that would seal an empty window and release the rooms).
public struct EndedRoomJournal: Sendable {
    public let directory: String

    /// One journaled room, as the engine indexes it (sorted by end time, then name).
    public struct Entry: Sendable, Equatable, Comparable {
        public var end: Int64
        public var name: String
        public static func < (a: Entry, b: Entry) -> Bool { (a.end, a.name) < (b.end, b.name) }
    }

    public init(directory: String) { self.directory = directory }

    static func name(end: Int64, roomID: String, start: Double?) -> String {
        let identity = Array(roomID.utf8) + [0] + Array(String(Int64((start ?? 0).rounded(.down))).utf8)
        return "\(TextFormat.padded(Int(end), width: 15))-\(TextFormat.hex(Digest.sha256(identity).prefix(12))).json"
    }

    /// Writes each room's record (as data stream files carry it); returns the entries written.
    public func record(_ rooms: [Room], publicURL: String) throws(StreamError) -> [Entry] {
        guard !rooms.isEmpty else { return [] }
        try DurableFile.makeDirectories(directory)
        var entries: [Entry] = []
        for room in rooms {
            let end = Int64((room.endTime ?? 0).rounded(.down))
            let name = Self.name(end: end, roomID: room.id, start: room.startTime)
            let file = try DurableFile(path: "\(directory)/\(name)")
            try file.write(Array(RoomRecord.json(room, publicURL: publicURL).utf8))
            try file.commit()
            entries.append(Entry(end: end, name: name))
        }
        return entries
    }

    /// Every entry on disk, sorted. A missing directory is an empty journal; any other error
    /// (permissions, I/O) is thrown.
    public func list() throws(StreamError) -> [Entry] {
        let (opened, error) = callWithErrno(directory) { opendir($0) }
        guard let handle = opened else {
            if error == ENOENT { return [] }
            throw .io(operation: "list", path: directory, errno: error)
        }
        defer { closedir(handle) }
        var entries: [Entry] = []
        errno = 0
        while let item = readdir(handle) {
            let name = withUnsafeBytes(of: item.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name.hasSuffix(".json"), let end = Int64(name.prefix { $0 != "-" }) { entries.append(Entry(end: end, name: name)) }
            errno = 0
        }
        if errno != 0 { throw .io(operation: "list", path: directory, errno: errno) }
        return entries.sorted()
    }

    /// One entry's record.
    /// Plain POSIX calls: a seal reads every room of its window, and Foundation's `Data` round
    /// trip cost as much as the read itself.
    public func read(_ entry: Entry) throws(StreamError) -> [UInt8] {
        let path = "\(directory)/\(entry.name)"
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .io(operation: "read", path: path, errno: errno) }
        defer { closeDescriptor(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .io(operation: "read", path: path, errno: errno) }
        let size = Int(info.st_size)
        var failure: Int32 = 0
        // SAFETY: read(2) writes at most `size - filled` bytes past `filled`; only the bytes it
        // wrote are counted as initialized.
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            var filled = 0
            while filled < size, let base = buffer.baseAddress {
                let count = Glibc.read(fd, base + filled, size - filled)
                if count > 0 { filled += count; continue }
                if count < 0 && errno == EINTR { continue }
                failure = count == 0 ? EIO : errno  // shorter than its size: truncated meanwhile
                break
            }
            initialized = filled
        }
        if failure != 0 { throw .io(operation: "read", path: path, errno: failure) }
        return bytes
    }

    /// Deletes entries every stream has sealed. Returns how many could not be deleted (they
    /// stay on disk and are deleted again after the next start: never sealed twice, because
    /// their windows are sealed already).
    @discardableResult
    public func remove(_ entries: [Entry]) -> Int {
        entries.filter { entry in
            let (status, error) = callWithErrno("\(directory)/\(entry.name)") { unlink($0) }
            return status != 0 && error != ENOENT
        }.count
    }
}
