import RoomstreamBasics
import RoomstreamCore

/// Seals a window: the rooms that ended in it, as one JSON array (room-record.md), optionally
/// gzip, written durably to the spool. Records are read and written one at a time (`record(i)`
/// is called once per room, in order), so memory holds one room's JSON plus the compressor's
/// window, never the whole file, however many rooms the window has.
public enum Sealer {
    public static func seal(
        recordCount: Int, record: (Int) throws(StreamError) -> [UInt8], window: StreamWindow, definition: StreamDefinition,
        spoolDirectory: String, now: Double
    ) throws(StreamError) -> SealedFile {
        try DurableFile.makeDirectories(spoolDirectory)
        let gzip = definition.compression == .gzip
        let spoolName = "\(definition.id)_\(window)" + (gzip ? ".json.gz" : ".json")
        let file = try DurableFile(path: "\(spoolDirectory)/\(spoolName)")
        let hasher = SHA256Hasher()
        let compressor = gzip ? try GzipCompressor() : nil
        func emit(_ bytes: [UInt8], finish: Bool = false) throws(StreamError) {
            var bytes = bytes
            if let compressor { bytes = try compressor.compress(bytes, finish: finish) }
            hasher.update(bytes)
            try file.write(bytes)
        }
        try emit(Array("[".utf8))
        for index in 0..<recordCount {
            try emit(Array((index > 0 ? ",\n" : "\n").utf8) + (try record(index)))
        }
        try emit(Array((recordCount == 0 ? "]\n" : "\n]\n").utf8), finish: true)
        let bytes = file.bytesWritten
        try file.commit()
        return SealedFile(
            stream: definition.id, windowStart: window.start, windowEnd: window.end, key: definition.key(for: window),
            spoolName: spoolName, rooms: recordCount, bytes: bytes,
            sha256: TextFormat.hex(hasher.finalize()), gzip: gzip,
            state: .sealed, attempts: 0, lastError: nil, sealedAt: now, uploadedAt: nil)
    }

    /// Seals records already in memory (tests, small windows).
    public static func seal(records: [String], window: StreamWindow, definition: StreamDefinition, spoolDirectory: String, now: Double) throws(StreamError) -> SealedFile {
        try seal(recordCount: records.count, record: { Array(records[$0].utf8) }, window: window, definition: definition, spoolDirectory: spoolDirectory, now: now)
    }
}
