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
        let output = SealOutput(file: file, gzip: gzip)
        // Records are gathered into batches of about 1 MiB (per record, the fixed costs of
        // compressing, hashing and writing outweighed the work on a room's few KB); batches are
        // compressed in parallel and written in order by the output while the next is read.
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

/// The compress and write stages of a seal, so that deflate runs on every core while the
/// caller reads the next records. Batches are deflated in parallel on a concurrent queue
/// (`GzipBlocks`: each primed with the previous batch's last 32 KiB) and hashed and written in
/// order on a serial one. At most `maxBatchesInFlight` batches are between `submit` and the
/// file: `submit` blocks beyond that, which bounds memory (about 2 MiB per batch, input and
/// output) whatever the window's size.
// SAFETY: `failure`, `crc`, `inputBytes` and `hasher` are touched only on `writeQueue` until
// `finish()`'s `writeQueue.sync` returns, after which only the caller uses them; `previous` only
// by the caller (`submit` is called from one thread at a time).
final class SealOutput: @unchecked Sendable {
    /// Two cores deflate while a third batch is being read and a fourth written.
    static let maxBatchesInFlight = 4
    private let file: DurableFile
    private let gzip: Bool
    private let hasher = SHA256Hasher()
    private var failure: StreamError?
    private var crc: UInt32 = 0
    private var inputBytes: UInt64 = 0
    private var previous: [UInt8] = []
    private var submitted = 0
    private let compressQueue = DispatchQueue(label: "roomstream.seal-compress", attributes: .concurrent)
    private let writeQueue = DispatchQueue(label: "roomstream.seal-output")
    private let slots = DispatchSemaphore(value: SealOutput.maxBatchesInFlight)

    init(file: DurableFile, gzip: Bool) {
        self.file = file
        self.gzip = gzip
    }

    /// One batch's deflate, run on the compress queue and awaited, in order, by the writer.
    // SAFETY: `result` is written before `done.signal()` and read only after `done.wait()`.
    private final class Pending: @unchecked Sendable {
        var result: Result<GzipBlocks.Block, StreamError> = .failure(.compression("not compressed"))
        let done = DispatchSemaphore(value: 0)
    }

    /// Queues a batch; throws the stages' first failure (the caller stops reading).
    func submit(_ batch: [UInt8], finish: Bool) throws(StreamError) {
        slots.wait()
        if let failure = writeQueue.sync(execute: { self.failure }) {
            slots.signal()
            throw failure
        }
        let first = submitted == 0
        submitted += 1
        let pending: Pending? = gzip ? Pending() : nil
        if let pending {
            let dictionary = Array(previous.suffix(GzipBlocks.dictionaryBytes))
            previous = batch
            compressQueue.async {
                pending.result = Result { () throws(StreamError) in try GzipBlocks.block(batch, dictionary: dictionary, last: finish) }
                pending.done.signal()
            }
        }
        writeQueue.async {
            defer { self.slots.signal() }
            var bytes = batch
            if let pending {
                pending.done.wait()  // this batch's deflate; the later ones run meanwhile
                switch pending.result {
                case .success(let block):
                    bytes = (first ? GzipBlocks.header : []) + block.deflated
                    self.crc = GzipBlocks.combine(self.crc, block.crc, secondBytes: block.inputBytes)
                    self.inputBytes += UInt64(block.inputBytes)
                    if finish { bytes += GzipBlocks.trailer(crc: self.crc, totalBytes: self.inputBytes) }
                case .failure(let error):
                    if self.failure == nil { self.failure = error }
                }
            }
            guard self.failure == nil else { return }
            do throws(StreamError) {
                self.hasher.update(bytes)
                try self.file.write(bytes)
            } catch {
                self.failure = error
            }
        }
    }

    /// Waits for every queued batch; returns the hex SHA-256 of the bytes written.
    func finish() throws(StreamError) -> String {
        writeQueue.sync {}
        if let failure { throw failure }
        return TextFormat.hex(hasher.finalize())
    }
}
