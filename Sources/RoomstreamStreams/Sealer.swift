import Dispatch
import RoomstreamBasics
import RoomstreamCore

/// Seals a window: the rooms that ended in it, as one JSON array (room-record.md), optionally
/// gzip, written durably to the spool. Records are read one at a time (`record(i)` is called
/// once per room, in order) and written in batches of about 1 MiB, so memory holds a few
/// batches plus the compressor's window, never the whole file, however many rooms the window
/// has.
public enum Sealer {
    public static func seal(
        recordCount: Int, record: (Int) throws(StreamError) -> [UInt8], window: StreamWindow, definition: StreamDefinition,
        spoolDirectory: String, now: Double, instance: String = ""
    ) throws(StreamError) -> SealedFile {
        try DurableFile.makeDirectories(spoolDirectory)
        let gzip = definition.compression == .gzip
        let spoolName = "\(definition.id)_\(window)" + (gzip ? ".json.gz" : ".json")
        let file = try DurableFile(path: "\(spoolDirectory)/\(spoolName)")
        let output = SealOutput(file: file, compressor: gzip ? try GzipCompressor() : nil)
        // Records are gathered into batches of about 1 MiB (per record, the fixed costs of
        // compressing, hashing and writing outweighed the work on a room's few KB); each batch
        // is compressed and written on the output's queue while the next one is read.
        let batchBytes = 1 << 20
        var pending: [UInt8] = []
        pending.reserveCapacity(batchBytes + 64 * 1024)
        pending.append(UInt8(ascii: "["))
        do {
            for index in 0..<recordCount {
                pending.append(contentsOf: (index > 0 ? ",\n" : "\n").utf8)
                pending.append(contentsOf: try record(index))
                if pending.count >= batchBytes {
                    try output.submit(pending, finish: false)
                    pending.removeAll(keepingCapacity: true)
                }
            }
        } catch {
            _ = try? output.finish()  // the read's error is the one to report
            throw error
        }
        pending.append(contentsOf: (recordCount == 0 ? "]\n" : "\n]\n").utf8)
        try output.submit(pending, finish: true)
        let digest = try output.finish()
        let bytes = file.bytesWritten
        try file.commit()
        return SealedFile(
            stream: definition.id, windowStart: window.start, windowEnd: window.end, key: definition.key(for: window, instance: instance),
            spoolName: spoolName, rooms: recordCount, bytes: bytes,
            sha256: digest, gzip: gzip,
            state: .sealed, attempts: 0, lastError: nil, sealedAt: now, uploadedAt: nil)
    }

    /// Seals records already in memory (tests, small windows).
    public static func seal(records: [String], window: StreamWindow, definition: StreamDefinition, spoolDirectory: String, now: Double) throws(StreamError) -> SealedFile {
        try seal(recordCount: records.count, record: { Array(records[$0].utf8) }, window: window, definition: definition, spoolDirectory: spoolDirectory, now: now)
    }
}

/// The compress → hash → write stage of a seal, on its own serial queue, so that deflate runs
/// while the caller reads the next records. At most `maxBatchesInFlight` batches wait for it:
/// `submit` blocks beyond that, which bounds memory whatever the window's size.
// SAFETY: `compressor`, `hasher`, `file` and `failure` are touched only on `queue` until
// `finish()`'s `queue.sync` returns, after which only the caller uses them.
final class SealOutput: @unchecked Sendable {
    static let maxBatchesInFlight = 2
    private let file: DurableFile
    private let compressor: GzipCompressor?
    private let hasher = SHA256Hasher()
    private var failure: StreamError?
    private let queue = DispatchQueue(label: "roomstream.seal-output")
    private let slots = DispatchSemaphore(value: SealOutput.maxBatchesInFlight)

    init(file: DurableFile, compressor: GzipCompressor?) {
        self.file = file
        self.compressor = compressor
    }

    /// Queues a batch; throws the stage's first failure (the caller stops reading).
    func submit(_ batch: [UInt8], finish: Bool) throws(StreamError) {
        slots.wait()
        if let failure = queue.sync(execute: { self.failure }) {
            slots.signal()
            throw failure
        }
        queue.async {
            defer { self.slots.signal() }
            guard self.failure == nil else { return }
            do throws(StreamError) {
                var bytes = batch
                if let compressor = self.compressor { bytes = try compressor.compress(bytes, finish: finish) }
                self.hasher.update(bytes)
                try self.file.write(bytes)
            } catch {
                self.failure = error
            }
        }
    }

    /// Waits for every queued batch; returns the hex SHA-256 of the bytes written.
    func finish() throws(StreamError) -> String {
        queue.sync {}
        if let failure { throw failure }
        return TextFormat.hex(hasher.finalize())
    }
}
