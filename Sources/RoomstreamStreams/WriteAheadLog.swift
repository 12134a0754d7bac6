#if canImport(Glibc)
import Glibc
#endif
import CZlib
import Dispatch
import Foundation
import RoomstreamBasics
import RoomstreamCore

/// The registry's write-ahead log (`<data>/rooms/log/`): every accepted change, appended before
/// its 2xx is sent, so a `kill -9` between checkpoints loses nothing that was acknowledged.
///
/// Records are framed `u32 length · u32 CRC-32 · u64 LSN · payload` (little-endian; the CRC
/// covers LSN and payload) in segments named by their first LSN. Appends only copy bytes into
/// memory (under the registry's lock, so the log's order is the apply order); one writer on
/// its own queue writes everything appended so far with one `write` and, under the `fsync`
/// policy, one `fdatasync`: a group commit, so requests that arrive during a sync share the
/// next one. While an event loop handles a batch of requests (the events of one `epoll_wait`
/// and of the zero-timeout ones after it that find some; see `batchBegan`), the writer is not
/// started for each record: the batch's end starts it, so one group (one `fdatasync`) carries
/// the whole batch. After a checkpoint (which records the last LSN it includes) older segments
/// are deleted. A torn last record fails its length or checksum and ends that segment's replay.
///
/// Segments are written in place over zeros laid down ahead of the writer
/// (`preallocateBytes` at a time), not appended: `fdatasync` after an append must also commit
/// the file's new size through the filesystem's journal, and measured here that doubled each
/// sync (0.49 against 0.2 ms for an 11 KB write on ext4). Replay ends a segment at the zeros.
///
/// Under `fsync`, where the filesystem supports direct I/O, each group is one `O_DIRECT |
/// O_DSYNC` write instead of a buffered `write` and an `fdatasync` (decision #61): the same
/// bytes reach the disk, with one flush, but without the page cache's copy and writeback
/// (`roomstream-bench`, groups of 20 records: 0.74–0.84× the CPU and time per group). A
/// direct write covers whole aligned blocks, so it starts at the block holding the records'
/// end, rewriting the bytes already there (kept in memory, `Writer.tail`), and ends with zeros.
public final class WriteAheadLog: RegistryLog {
    /// When a record counts as written, and what a crash can cost (docs/durability.md).
    public enum SyncPolicy: Sendable, Equatable, CustomStringConvertible {
        /// 2xx after `write` and `fdatasync`: survives a process or machine crash.
        case fsync
        /// 2xx after `write`; `fdatasync` every N ms: a process crash loses nothing, a machine
        /// crash up to N ms of acknowledged requests.
        case interval(milliseconds: Int)
        /// 2xx after `write`, never synced by us: a process crash loses nothing, a machine crash
        /// whatever the kernel had not written back (typically up to 30 s).
        case none

        public var description: String {
            switch self {
            case .fsync: "fsync"
            case .interval(let ms): "interval \(ms) ms"
            case .none: "none"
            }
        }
    }

    public struct Configuration: Sendable {
        public var directory: String
        public var policy: SyncPolicy = .fsync
        /// A segment is closed and a new one started beyond this size.
        public var segmentBytes = 64 << 20
        /// Zeros written ahead of the writer at a time, so that most syncs commit data only (0:
        /// append). Small, because the sync that carries them is slower (1 MiB steps showed as
        /// p99 spikes). Best effort: skipped when the filesystem has less than
        /// `preallocateMinimumFreeBytes` free, so a nearly full disk still takes records.
        public var preallocateBytes = 64 << 10
        public var preallocateMinimumFreeBytes = 256 << 20
        /// Under `fsync`: direct, synchronous writes where the filesystem supports them (false:
        /// always buffered writes and `fdatasync`; the tests compare both).
        public var directWrites = true
        public init(directory: String, policy: SyncPolicy = .fsync) {
            self.directory = directory
            self.policy = policy
        }
    }

    static let magic: [UInt8] = Array("RSWAL01\n".utf8)
    static let frameHeaderBytes = 16
    /// Larger than any record the decoder can produce from a request within the body limits;
    /// a bigger length is a torn or corrupt frame.
    static let maxRecordBytes = 64 << 20

    public let configuration: Configuration

    struct State {
        var nextLSN: UInt64
        var buffer: [UInt8] = []
        /// The last LSN in `buffer`.
        var bufferedThrough: UInt64
        /// Records up to here are written (and synced, under `fsync`): their 2xx may go.
        var acknowledged: UInt64
        var flushing = false
        /// Event-loop batches under way (`batchBegan` not yet matched by `batchEnded`): while
        /// any is, appends leave the writer to the batch's end.
        var openBatches = 0
        var waiters: [(lsn: UInt64, done: @Sendable (Bool) -> Void)] = []
        var failure: String?
        var appendedBytes = 0
        /// (last LSN, bytes appended through it) per written group, for the un-checkpointed size.
        var groupMarks: [(lsn: UInt64, bytes: Int)] = []
        var checkpointedBytes = 0
        var groups = 0
    }

    /// Counters for metrics and tests.
    public struct Statistics: Sendable, Equatable {
        /// Writes, each carrying every record appended while the previous one ran.
        public var groups = 0
        /// `fdatasync` calls or direct synchronous writes (one per group under `fsync`).
        public var syncs = 0
        /// Time spent in `fdatasync` or a direct synchronous write (under `fsync`): with
        /// `syncs`, the disk's mean sync latency.
        public var syncSeconds = 0.0
        public var bytesWritten = 0
        /// The current segment takes direct synchronous writes (`O_DIRECT | O_DSYNC`) aligned
        /// to this many bytes; 0: buffered writes.
        public var directWriteAlignment = 0
    }

    public var statistics: Statistics {
        let groups = state.withLock { $0.groups }
        return writer.withLock {
            Statistics(groups: groups, syncs: $0.syncs, syncSeconds: $0.syncTime.seconds, bytesWritten: $0.bytesWritten,
                       directWriteAlignment: $0.directAlignment)
        }
    }

    /// Only the writer queue touches this (the lock is uncontended; it makes that checkable).
    struct Writer {
        var fd: Int32 = -1
        /// Non-zero: `fd` was opened `O_DIRECT | O_DSYNC`, and every write starts and ends on a
        /// multiple of this many bytes, from a buffer aligned to it.
        var directAlignment = 0
        /// Direct writes: the bytes from the last aligned boundary to `currentBytes`, which the
        /// next write starts with.
        var tail: [UInt8] = []
        var segments: [(first: UInt64, path: String)] = []
        /// Where the next group is written (the records' end in the current segment).
        var currentBytes = 0
        /// The current segment's length: zeros from `currentBytes` to here.
        var preparedBytes = 0
        var dirty = false
        /// Under `interval`: a sync is scheduled for the dirty data.
        var syncScheduled = false
        var syncs = 0
        var syncTime = Duration.zero
        var bytesWritten = 0
    }

    let state: Locked<State>
    let writer = Locked(Writer())
    let queue = DispatchQueue(label: "roomstream.wal")

    /// A log not yet open: `replay` what is on disk into the registry, then `open(after:)`.
    public init(configuration: Configuration) {
        self.configuration = configuration
        state = Locked(State(nextLSN: 1, bufferedThrough: 0, acknowledged: 0))
    }

    /// Opens the log for appending after `lastLSN` (the last record replayed, or the
    /// checkpoint's position): a new segment is started; the ones found stay until a
    /// checkpoint covers them.
    public func open(after lastLSN: UInt64) throws(StreamError) {
        try DurableFile.makeDirectories(configuration.directory)
        var writer = Writer(segments: try Self.segments(in: configuration.directory))
        try openSegment(first: lastLSN + 1, writer: &writer)
        self.writer.withLock { $0 = writer }
        state.withLock { state in
            state.nextLSN = lastLSN + 1
            state.bufferedThrough = lastLSN
            state.acknowledged = lastLSN
        }
    }

    /// Deletes every segment (the log is turned off and a checkpoint holds all it had).
    public static func removeSegments(in directory: String) throws(StreamError) {
        guard FileManager.default.fileExists(atPath: directory) else { return }
        for segment in try segments(in: directory) { unlink(segment.path) }
    }

    deinit {
        let fd = writer.withLock { $0.fd }
        if fd >= 0 { closeDescriptor(fd) }
    }

    // MARK: Appending (any thread; the registry's lock is held)

    public func append(_ record: [UInt8]) -> UInt64 {
        state.withLock { state in
            let lsn = state.nextLSN
            state.nextLSN += 1
            Self.frame(record, lsn: lsn, into: &state.buffer)
            state.appendedBytes += Self.frameHeaderBytes + record.count
            state.bufferedThrough = lsn
            if state.openBatches == 0 { startWriter(&state) }
            return lsn
        }
    }

    /// An event loop starts a batch of events (`EventBatchObserver`). Until the matching
    /// `batchEnded`, records appended (by it or anyone) wait for a batch's end to be written,
    /// so that the batch shares one write and one `fdatasync` instead of the writer syncing
    /// the first record at once and the rest one or two at a time behind it. Measured with one
    /// loop on one core at saturation: 1.4–2 records per sync before, and each sync costs about
    /// 35 µs of CPU on the core the loop needs. The wait is bounded by one batch's handling
    /// (at most 256 events, none of which may block a loop).
    public func batchBegan() {
        state.withLock { $0.openBatches += 1 }
    }

    /// The loop's batch is handled: starts the writer for what it (and anyone) appended,
    /// unless a group is being written, whose end takes it.
    public func batchEnded() {
        state.withLock { state in
            state.openBatches -= 1
            startWriter(&state)
        }
    }

    /// Starts the writer queue when records wait and it is not running (or failed: then
    /// `checkpointed(through:)` starts it once a segment opens again).
    func startWriter(_ state: inout State) {
        guard !state.flushing, !state.buffer.isEmpty, state.failure == nil else { return }
        state.flushing = true
        queue.async { self.flush() }
    }

    public var lastAppended: UInt64 { state.withLock { $0.nextLSN - 1 } }

    /// Calls `done(true)` once every record up to `lsn` is written under the policy, or
    /// `done(false)` if the log failed before (the caller answers 503). On the writer queue,
    /// or at once on the caller's thread when `lsn` is already acknowledged.
    public func whenWritten(_ lsn: UInt64, _ done: @escaping @Sendable (Bool) -> Void) {
        let immediate: Bool? = state.withLock { state in
            if let _ = state.failure { return false }
            if lsn <= state.acknowledged { return true }
            state.waiters.append((lsn, done))
            return nil
        }
        if let immediate { done(immediate) }
    }

    /// Why the log cannot write (ingest answers 503 meanwhile), or nil.
    public var failure: String? { state.withLock { $0.failure } }

    /// Bytes appended since the last checkpoint's position (by written group: a group that
    /// straddles the position counts whole).
    public var uncheckpointedBytes: Int { state.withLock { $0.appendedBytes - $0.checkpointedBytes } }

    // MARK: Writing (the writer queue)

    static func frame(_ record: [UInt8], lsn: UInt64, into buffer: inout [UInt8]) {
        var header = BinaryWriter(reservingCapacity: frameHeaderBytes)
        header.u64(lsn)
        let lsnBytes = header.bytes
        withUnsafeBytes(of: UInt32(truncatingIfNeeded: record.count).littleEndian) { buffer.append(contentsOf: $0) }
        withUnsafeBytes(of: checksum(lsnBytes[...], record[...]).littleEndian) { buffer.append(contentsOf: $0) }
        buffer.append(contentsOf: lsnBytes)
        buffer.append(contentsOf: record)
    }

    /// A frame's CRC-32 (zlib's): over the LSN's eight bytes, then the payload.
    static func checksum(_ lsnBytes: ArraySlice<UInt8>, _ payload: ArraySlice<UInt8>) -> UInt32 {
        var crc = crc32(0, nil, 0)
        crc = lsnBytes.withUnsafeBufferPointer { crc32(crc, $0.baseAddress, uInt($0.count)) }
        crc = payload.withUnsafeBufferPointer { crc32(crc, $0.baseAddress, uInt($0.count)) }
        return UInt32(truncatingIfNeeded: crc)
    }

    func flush() {
        dispatchPrecondition(condition: .onQueue(queue))
        var first = true
        while true {
            let taken = state.withLock { state -> (chunk: [UInt8], through: UInt64, bytes: Int)? in
                // After a group, what was appended meanwhile goes next only if no loop is in
                // the middle of a batch; otherwise that batch's end starts the writer again.
                guard !state.buffer.isEmpty, state.failure == nil, first || state.openBatches == 0 else {
                    state.flushing = false
                    return nil
                }
                first = false
                defer { state.buffer = [] }
                return (state.buffer, state.bufferedThrough, state.appendedBytes)
            }
            guard let taken else { return }
            let error = writer.withLock { writer in writeAndSync(taken.chunk, through: taken.through, &writer) }
            let ready = state.withLock { state -> [(lsn: UInt64, done: @Sendable (Bool) -> Void)] in
                if let error {
                    // Keep the records for the next segment (written once space returns, after a
                    // checkpoint); everyone waiting is answered 503.
                    state.failure = error
                    state.buffer = taken.chunk + state.buffer
                    state.flushing = false  // `checkpointed(through:)` starts the writer again
                    defer { state.waiters = [] }
                    return state.waiters
                }
                state.acknowledged = taken.through
                state.groups += 1
                state.groupMarks.append((taken.through, taken.bytes))
                let done = state.waiters.filter { $0.lsn <= taken.through }
                state.waiters.removeAll { $0.lsn <= taken.through }
                return done
            }
            for waiter in ready { waiter.done(error == nil) }
            if error != nil { return }
        }
    }

    /// Writes a group to the current segment (rolling it when full) and syncs it under `fsync`.
    private func writeAndSync(_ chunk: [UInt8], through: UInt64, _ writer: inout Writer) -> String? {
        guard writer.fd >= 0 else { return "no open log segment" }
        if writer.directAlignment > 0 {
            writer.syncs += 1
            let started = ContinuousClock.now
            if let error = writeDirect(chunk, &writer) { return error }
            writer.syncTime += ContinuousClock.now - started
            rollIfFull(after: through, &writer)
            return nil
        }
        if writer.currentBytes + chunk.count > writer.preparedBytes { prepare(&writer, for: chunk.count) }
        if let error = Self.writeAll(writer.fd, chunk, at: writer.currentBytes) {
            return "write log segment: \(error)"
        }
        writer.currentBytes += chunk.count
        writer.bytesWritten += chunk.count
        writer.dirty = true
        switch configuration.policy {
        case .fsync:
            writer.syncs += 1
            let started = ContinuousClock.now
            if fdatasync(writer.fd) != 0 { return "fdatasync log segment: \(String(cString: strerror(errno)))" }
            writer.syncTime += ContinuousClock.now - started
            writer.dirty = false
        case .interval(let milliseconds) where !writer.syncScheduled:
            writer.syncScheduled = true
            queue.asyncAfter(deadline: .now() + .milliseconds(milliseconds)) { [weak self] in self?.periodicSync() }
        default:
            break
        }
        rollIfFull(after: through, &writer)
        return nil
    }

    private func periodicSync() {
        let error: String? = writer.withLock { writer in
            writer.syncScheduled = false
            guard writer.dirty, writer.fd >= 0 else { return nil }
            writer.syncs += 1
            guard fdatasync(writer.fd) == 0 else { return "fdatasync log segment: \(String(cString: strerror(errno)))" }
            writer.dirty = false
            return nil
        }
        // After a failed sync the kernel may have dropped the pages: stop acknowledging until a
        // checkpoint has the state and a new segment is open.
        if let error { state.withLock { $0.failure = error } }
    }
}
