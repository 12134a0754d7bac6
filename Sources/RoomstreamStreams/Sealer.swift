import Crypto
import RoomstreamCore

/// Seals a window: the rooms that ended in it, as one JSON array (room-record.md), optionally
/// gzip, written durably to the spool. Rooms are encoded one at a time, so memory holds one
/// room's JSON (plus the compressor's window), not the whole file.
public enum Sealer {
    /// `records` are the encoded room records, from the ended-room journal.
    public static func seal(
        records: [String], window: StreamWindow, definition: StreamDefinition, spoolDirectory: String, now: Double
    ) throws(StreamError) -> SealedFile {
        try DurableFile.makeDirectories(spoolDirectory)
        let gzip = definition.compression == .gzip
        let spoolName = "\(definition.id)_\(window)" + (gzip ? ".json.gz" : ".json")
        let file = try DurableFile(path: "\(spoolDirectory)/\(spoolName)")
        var hasher = SHA256()
        let compressor = gzip ? try GzipCompressor() : nil
        func emit(_ text: String, finish: Bool = false) throws(StreamError) {
            var bytes = Array(text.utf8)
            if let compressor { bytes = try compressor.compress(bytes, finish: finish) }
            hasher.update(data: bytes)
            try file.write(bytes)
        }
        try emit("[")
        for (index, record) in records.enumerated() {
            try emit((index > 0 ? ",\n" : "\n") + record)
        }
        try emit(records.isEmpty ? "]\n" : "\n]\n", finish: true)
        let bytes = file.bytesWritten
        try file.commit()
        return SealedFile(
            stream: definition.id, windowStart: window.start, windowEnd: window.end, key: definition.key(for: window),
            spoolName: spoolName, rooms: records.count, bytes: bytes,
            sha256: hasher.finalize().map { String(format: "%02x", $0) }.joined(), gzip: gzip,
            state: .sealed, attempts: 0, lastError: nil, sealedAt: now, uploadedAt: nil)
    }
}

import Foundation
