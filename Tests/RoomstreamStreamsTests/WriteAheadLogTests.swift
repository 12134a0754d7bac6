import Foundation
import RoomstreamCore
@testable import RoomstreamStreams
import Synchronization
import Testing
import TestSupport

/// The write-ahead log: records round-trip, a torn tail at any offset loses only the torn
/// record, and a registry rebuilt from a checkpoint plus the log is the registry that wrote them.
struct WriteAheadLogTests {
    static let t0 = RegistryCheckpointTests.t0

    static var records: [RegistryLogRecord] {
        var full = RegistryCheckpointTests.batch(1, at: t0, scale: 3)
        full.sdkVersion = "1.2.3"
        full.videoDevice = "Cam é"
        full.events.append(.init(ts: t0 + 1, kind: .iceConnectionState("checking"), pc: nil))
        full.events.append(.init(ts: t0 + 2, kind: .leave))
        full.events.append(.init(ts: t0 + 3, kind: .other, pc: "pc9"))
        var pair = CandidatePair(id: "P2", timestamp: t0)
        pair.nominated = false
        pair.state = "succeeded"
        full.samples[0].report.candidatePairs.append(pair)
        var transport = Transport(id: "T1")
        transport.selectedCandidatePairId = "P2"
        full.samples[0].report.transports = [transport]
        full.samples[0].report.localCandidates[0].url = "turn:turn.example.com:3478"
        full.samples[0].report.localCandidates[0].networkProtocol = "udp"
        full.samples[0].report.remoteInbound[0].totalRoundTripTime = .nan  // bit patterns survive
        full.location = PeerLocation(city: "Malmö", country: "Sweden", organization: nil)
        var countryOnly = IngestBatch()
        countryOnly.location = PeerLocation(city: nil, country: "United States", organization: "Google LLC")
        return [
            .ingest(roomID: "room 日本", peerID: "p/1", batch: full, arrival: t0 + 20, userAgent: "UA"),
            .ingest(roomID: "r", peerID: "p", batch: IngestBatch(), arrival: -0.0, userAgent: nil),
            .leave(roomID: "r", peerID: "p", arrival: t0),
            .expire(now: t0 + 30_000),
            .release(endedBefore: .greatestFiniteMagnitude),
            .ingest(roomID: "r", peerID: "q", batch: countryOnly, arrival: t0, userAgent: nil),
        ]
    }

    /// The writer's raw buffer grows (from its 16-byte minimum) at every kind of write, and
    /// what it wrote reads back exactly: strings crossing the end, integers straddling it,
    /// LEB128 lengths of 1 to 3 bytes, empty strings and optionals.
    @Test(arguments: [0, 1, 7, 15, 16, 17, 300])
    func theBinaryWriterReadsBackAcrossItsGrowth(stringBytes: Int) throws {
        let text = String(repeating: "é", count: stringBytes / 2) + String(repeating: "x", count: stringBytes % 2)
        let long = String(repeating: "z", count: 20_000)
        var writer = BinaryWriter(reservingCapacity: 1)
        for index in 0..<40 {
            writer.u8(UInt8(truncatingIfNeeded: index))
            writer.string(text)
            writer.u64(UInt64(index) &* 0x0102_0304_0506_0708)
            writer.optionalDouble(index % 3 == 0 ? nil : Double(index) / 7)
            writer.length(index * 1_000)
            writer.optionalString(index % 5 == 0 ? long : nil)
            writer.i64(-Int64(index))
        }
        let bytes = writer.bytes
        var reader = BinaryReader(bytes[...])
        for index in 0..<40 {
            #expect(try reader.u8() == UInt8(truncatingIfNeeded: index))
            #expect(try reader.string() == text)
            #expect(try reader.u64() == UInt64(index) &* 0x0102_0304_0506_0708)
            #expect(try reader.optionalDouble() == (index % 3 == 0 ? nil : Double(index) / 7))
            // A length must fit in what is left: read the LEB128 bytes by hand instead.
            var value = 0, shift = 0
            while true {
                let byte = try reader.u8()
                value |= Int(byte & 0x7F) << shift
                shift += 7
                if byte & 0x80 == 0 { break }
            }
            #expect(value == index * 1_000)
            #expect(try reader.optionalString() == (index % 5 == 0 ? long : nil))
            #expect(try reader.i64() == -Int64(index))
        }
        #expect(reader.isAtEnd)
    }

    /// A record written before locations existed (tag 1) still replays, without a location.
    @Test func anIngestRecordWithoutLocationStillDecodes() throws {
        var bytes = RegistryLogRecord.ingest(roomID: "r", peerID: "p", batch: IngestBatch(), arrival: Self.t0, userAgent: "UA").encoded()
        #expect(bytes[0] == 5)
        // Tag 5 carries one more byte (location absent) after the user agent: tag 1 is without it.
        var legacy = RegistryLogRecord.ingest(roomID: "r", peerID: "p", batch: IngestBatch(), arrival: Self.t0, userAgent: "UA").encoded()
        legacy[0] = 1
        // Find the absent-location byte: the encoding with a location differs only there on.
        var located = IngestBatch()
        located.location = PeerLocation(city: "X", country: nil, organization: nil)
        let withLocation = RegistryLogRecord.ingest(roomID: "r", peerID: "p", batch: located, arrival: Self.t0, userAgent: "UA").encoded()
        let index = try #require(zip(bytes, withLocation).enumerated().first { $0.element.0 != $0.element.1 }?.offset)
        #expect(bytes[index] == 0)
        legacy.remove(at: index)
        bytes = legacy
        let decoded = try RegistryLogRecord.decode(bytes[...])
        guard case .ingest(_, _, let batch, _, let userAgent) = decoded else { Issue.record("not an ingest record"); return }
        #expect(batch.location == nil)
        #expect(userAgent == "UA")
    }

    @Test(arguments: 0..<6)
    func recordsRoundTripAndEveryPrefixIsRefused(_ index: Int) throws {
        let record = Self.records[index]
        let bytes = record.encoded()
        let decoded = try RegistryLogRecord.decode(bytes[...])
        // NaN != NaN: compare the encodings, which carry the bit patterns.
        #expect(decoded.encoded() == bytes)
        if case .leave = record { #expect(decoded == record) }
        for cut in 0..<bytes.count {
            #expect(throws: BinaryReader.Truncated.self) { try RegistryLogRecord.decode(bytes[0..<cut]) }
        }
        #expect(throws: BinaryReader.Truncated.self) { try RegistryLogRecord.decode((bytes + [0])[...]) }
    }

    static func directory() -> String { NSTemporaryDirectory() + "roomstream-wal-\(UUID().uuidString)" }

    /// Appends and waits until each is written.
    static func write(_ log: WriteAheadLog, _ records: [RegistryLogRecord]) async {
        for record in records {
            let lsn = log.append(record.encoded())
            let written = await withCheckedContinuation { continuation in log.whenWritten(lsn) { continuation.resume(returning: $0) } }
            #expect(written)
        }
    }

    static func replayed(_ directory: String, after position: UInt64 = 0) throws -> (records: [RegistryLogRecord], summary: WriteAheadLog.ReplaySummary) {
        var records: [RegistryLogRecord] = []
        let summary = try WriteAheadLog.replay(directory: directory, after: position) { records.append($0) }
        return (records, summary)
    }

    /// Whether the temporary directory's filesystem takes direct synchronous writes (ext4, xfs,
    /// btrfs on Linux 6.1 and later report their alignment; tmpfs does not).
    static let directWritesSupported: Bool = {
        let log = WriteAheadLog(configuration: .init(directory: directory()))
        guard (try? log.open(after: 0)) != nil else { return false }
        defer { log.finish() }
        return log.statistics.directWriteAlignment > 0
    }()

    /// A crash mid-write leaves a torn last record: at the end of the file (an appended
    /// segment, or a filesystem too full for the zeros laid down ahead), or followed by those
    /// zeros. Either way only that record is lost, and a cut exactly between records (the
    /// zeros' start, for a preallocated segment) is no problem at all. Buffered writes and
    /// direct ones (where the filesystem has them), whose zeros end on an aligned boundary.
    @Test(arguments: [0, 64 << 10], [false, true])
    func aTornLastRecordAtEveryOffsetLosesOnlyThatRecord(preallocateBytes: Int, directWrites: Bool) async throws {
        let directory = Self.directory()
        var configuration = WriteAheadLog.Configuration(directory: directory)
        configuration.preallocateBytes = preallocateBytes
        configuration.preallocateMinimumFreeBytes = 0
        configuration.directWrites = directWrites
        let log = WriteAheadLog(configuration: configuration)
        try log.open(after: 0)
        let records = Array(Self.records.prefix(4))
        await Self.write(log, records)
        let alignment = log.statistics.directWriteAlignment
        #expect(directWrites || alignment == 0)
        log.finish()
        let segment = try #require(try WriteAheadLog.segments(in: directory).last)
        let whole = try Data(contentsOf: URL(fileURLWithPath: segment.path))
        let dataEnd = WriteAheadLog.magic.count + records.reduce(0) { $0 + WriteAheadLog.frameHeaderBytes + $1.encoded().count }
        // The zeros laid down ahead of the writer (to an aligned end, for direct writes), or none.
        let end = { (bytes: Int) in alignment > 0 ? WriteAheadLog.roundUp(bytes, to: alignment) : bytes }
        if preallocateBytes > 0 {
            #expect(whole.count > dataEnd && whole.count <= end(dataEnd + preallocateBytes))
        } else {
            #expect(whole.count == end(dataEnd))
        }
        #expect(whole[dataEnd...].allSatisfy { $0 == 0 })
        let lastFrame = WriteAheadLog.frameHeaderBytes + records[3].encoded().count
        let lastStart = dataEnd - lastFrame
        let full = try Self.replayed(directory)
        #expect(full.records.map { $0.encoded() } == records.map { $0.encoded() })
        #expect(full.summary.problems.isEmpty)
        for cut in lastStart..<dataEnd {
            // Cut off there, or zeroed from there (what reached the disk of a preallocated segment).
            for torn in [whole.prefix(cut), whole.prefix(cut) + Data(count: whole.count - cut)] {
                try torn.write(to: URL(fileURLWithPath: segment.path))
                let replay = try Self.replayed(directory)
                #expect(replay.records.count == 3, "cut at \(cut)")
                #expect(replay.summary.lastLSN == 3)
                #expect(replay.summary.problems.count == (cut == lastStart ? 0 : 1), "cut at \(cut)")
            }
        }
        // A flipped bit inside the second record: its checksum fails, the segment ends there.
        var corrupt = [UInt8](whole)
        corrupt[WriteAheadLog.magic.count + WriteAheadLog.frameHeaderBytes + records[0].encoded().count + 20] ^= 0x10
        try Data(corrupt).write(to: URL(fileURLWithPath: segment.path))
        let damaged = try Self.replayed(directory)
        #expect(damaged.records.count == 1)
        #expect(damaged.summary.problems.first?.contains("torn or corrupt record") == true)
    }

    /// Direct synchronous writes leave the very bytes buffered writes and `fdatasync` leave:
    /// groups of every size (one record, several, one larger than a block, a run of small
    /// ones ending mid-block), segments rolled often, every record replayed. Each direct write
    /// starts at the aligned boundary before the records' end and writes the bytes already
    /// there again, so a wrong tail would show here as a differing or zeroed byte.
    @Test(.enabled(if: directWritesSupported, "the temporary directory's filesystem reports no direct-I/O alignment (statx STATX_DIOALIGN)"))
    func directWritesLeaveTheSameSegmentsAsBufferedOnes() async throws {
        var records: [RegistryLogRecord] = []
        for round in 0..<40 {
            records += Self.records.prefix(1 + round % Self.records.count)
            records.append(.expire(now: Double(round)))
        }
        var segmentsByMode: [[(name: String, bytes: [UInt8])]] = []
        for direct in [false, true] {
            let directory = Self.directory()
            var configuration = WriteAheadLog.Configuration(directory: directory)
            configuration.directWrites = direct
            configuration.segmentBytes = 6 << 10
            configuration.preallocateBytes = 3 << 10
            configuration.preallocateMinimumFreeBytes = 0
            let log = WriteAheadLog(configuration: configuration)
            try log.open(after: 0)
            #expect((log.statistics.directWriteAlignment > 0) == direct)
            // Groups of 1, 2, 3, ... records: a loop batch each.
            var next = 0
            var size = 1
            while next < records.count {
                log.batchBegan()
                let group = records[next..<min(records.count, next + size)]
                let positions = group.map { log.append($0.encoded()) }
                log.batchEnded()
                if let last = positions.last {
                    #expect(await withCheckedContinuation { continuation in log.whenWritten(last) { continuation.resume(returning: $0) } })
                }
                next += group.count
                size = size % 7 + 1
            }
            if direct { #expect(log.statistics.directWriteAlignment > 0) }
            log.finish()
            let replayed = try Self.replayed(directory)
            #expect(replayed.records.map { $0.encoded() } == records.map { $0.encoded() })
            #expect(replayed.summary.problems.isEmpty)
            let segments = try WriteAheadLog.segments(in: directory)
            #expect(segments.count > 3)
            segmentsByMode.append(try segments.map { segment in
                let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: segment.path)))
                // The records end where the zeros start; the zeros' length differs by mode.
                var end = bytes.count
                while end > 0 && bytes[end - 1] == 0 { end -= 1 }
                return (String(segment.path.split(separator: "/").last ?? ""), Array(bytes[..<end]))
            })
        }
        #expect(segmentsByMode[0].map(\.name) == segmentsByMode[1].map(\.name))
        for (buffered, direct) in zip(segmentsByMode[0], segmentsByMode[1]) {
            #expect(buffered.bytes == direct.bytes, "segment \(buffered.name): \(buffered.bytes.count) against \(direct.bytes.count) bytes")
        }
    }

    @Test func replayStartsAfterThePositionAndSkipsRecordsSeenTwice() async throws {
        let directory = Self.directory()
        let first = WriteAheadLog(configuration: .init(directory: directory))
        try first.open(after: 0)
        await Self.write(first, Array(Self.records.prefix(5)))
        first.finish()
        // A second segment repeating LSNs 4 and 5 (a group rewritten after a write error).
        let second = WriteAheadLog(configuration: .init(directory: directory))
        try second.open(after: 3)
        await Self.write(second, [Self.records[3], Self.records[4], .expire(now: 1)])
        second.finish()
        let all = try Self.replayed(directory)
        #expect(all.records.count == 6)
        #expect(all.summary.lastLSN == 6)
        let after = try Self.replayed(directory, after: 4)
        #expect(after.records.map { $0.encoded() } == [Self.records[4], .expire(now: 1)].map { $0.encoded() })
    }

    @Test func aCheckpointDeletesTheSegmentsItCovers() async throws {
        let directory = Self.directory()
        let log = WriteAheadLog(configuration: .init(directory: directory))
        try log.open(after: 0)
        await Self.write(log, [.expire(now: 1), .expire(now: 2)])
        log.roll()
        await Self.write(log, [.expire(now: 3)])
        #expect(try WriteAheadLog.segments(in: directory).count == 2)
        #expect(log.uncheckpointedBytes > 0)
        log.checkpointed(through: 2)
        #expect(try WriteAheadLog.segments(in: directory).map(\.first) == [3])
        log.checkpointed(through: 3)
        #expect(log.uncheckpointedBytes == 0)
        #expect(try Self.replayed(directory).records.map { $0.encoded() } == [RegistryLogRecord.expire(now: 3).encoded()])
        log.finish()
    }

    /// Eight writers at once: every record is acknowledged, and syncs are shared (fewer write
    /// groups than records), which is what makes the fsync policy affordable.
    @Test func concurrentAppendsShareGroupCommits() async throws {
        let log = WriteAheadLog(configuration: .init(directory: Self.directory()))
        try log.open(after: 0)
        await withTaskGroup(of: Void.self) { group in
            for writer in 0..<8 {
                group.addTask { await Self.write(log, (0..<100).map { .expire(now: Double(writer * 1000 + $0)) }) }
            }
        }
        #expect(log.lastAppended == 800)
        #expect(log.statistics.groups < 800)
        #expect(log.statistics.syncs == log.statistics.groups)
        // Time in fdatasync is measured (for the disk's mean sync latency in /metrics).
        #expect(log.statistics.syncSeconds > 0)
        log.finish()
        #expect(try Self.replayed(log.configuration.directory).records.count == 800)
    }

    /// An event loop's batch is one group: records appended while it is open (by the loop or
    /// by another thread) wait for its end, then go in one write and one sync.
    @Test func aLoopBatchIsOneGroupCommit() async throws {
        let log = WriteAheadLog(configuration: .init(directory: Self.directory()))
        try log.open(after: 0)
        log.batchBegan()
        let positions = (0..<50).map { log.append(RegistryLogRecord.expire(now: Double($0)).encoded()) }
        let fromAnotherThread = await Task.detached { log.append(RegistryLogRecord.expire(now: 99).encoded()) }.value
        // Nothing starts the writer while the batch is open.
        #expect(log.statistics.groups == 0)
        let acknowledged = LockedBox(0)
        for position in positions + [fromAnotherThread] { log.whenWritten(position) { if $0 { acknowledged.set(acknowledged.get() + 1) } } }
        #expect(acknowledged.get() == 0)
        log.batchEnded()
        let lastWritten = await withCheckedContinuation { continuation in log.whenWritten(fromAnotherThread) { continuation.resume(returning: $0) } }
        #expect(lastWritten)
        #expect(acknowledged.get() == 51)
        #expect(log.statistics.groups == 1)
        #expect(log.statistics.syncs == 1)
        // Outside any batch an append starts the writer at once, as before.
        await Self.write(log, [.expire(now: 100)])
        #expect(log.statistics.groups == 2)
        // Two loops with overlapping batches: what either appended is written once a batch has
        // ended, at the latest when the last open one ends. (Which end starts the writer
        // depends on timing: a batch that ends while the writer is still finishing a group
        // leaves the records to it, and a writer that then sees the other batch open leaves them
        // to that batch's end. Waiting for the first end alone could wait forever here, where
        // the second batch ends only after the wait; on a loop every batch ends.)
        log.batchBegan()
        log.batchBegan()
        let first = log.append(RegistryLogRecord.expire(now: 101).encoded())
        log.batchEnded()
        let second = log.append(RegistryLogRecord.expire(now: 102).encoded())
        log.batchEnded()
        #expect(await withCheckedContinuation { continuation in log.whenWritten(first) { continuation.resume(returning: $0) } })
        #expect(await withCheckedContinuation { continuation in log.whenWritten(second) { continuation.resume(returning: $0) } })
        log.finish()
        #expect(try Self.replayed(log.configuration.directory).records.count == 54)
    }

    /// Expiry passes, leaves and releases are logged as well as requests, so replaying the log
    /// over the middle checkpoint gives exactly the registry that wrote it.
    @Test func aCheckpointPlusTheLogIsTheLiveRegistry() async throws {
        let directory = Self.directory()
        let log = WriteAheadLog(configuration: .init(directory: directory))
        try log.open(after: 0)
        var configuration = RoomRegistryConfiguration()
        configuration.peerTimeoutSeconds = 5
        let live = RoomRegistry(configuration: configuration, log: log)
        try RegistryCheckpointTests.feed(live, seqs: 1...3)
        let middle = live.snapshot()
        try RegistryCheckpointTests.feed(live, seqs: 4...6)
        _ = live.leave(roomID: "call-1", peerID: "bob", arrival: Self.t0 + 6_500)
        live.expire(now: Self.t0 + 13_000)  // call-2 and alice time out: both rooms end
        live.releaseEndedRooms(endedBefore: Self.t0 + 6_200)
        _ = try live.ingest(roomID: "call-2", peerID: "carol", batch: RegistryCheckpointTests.batch(1, at: Self.t0 + 1000, scale: 1), arrival: Self.t0 + 14_000, userAgent: nil)
        _ = try live.ingest(roomID: "late", peerID: "x", batch: RegistryCheckpointTests.batch(7, at: Self.t0 + 14_000, scale: 2), arrival: Self.t0 + 14_100, userAgent: nil)
        let final = live.snapshot()
        log.finish()

        let restored = RoomRegistry(configuration: configuration, restoring: middle)
        let summary = try WriteAheadLog.replay(directory: directory, after: try #require(middle.logPosition)) { #expect(restored.replay($0) == nil) }
        #expect(summary.lastLSN == final.logPosition)
        #expect(RegistryCheckpointTests.records(restored) == RegistryCheckpointTests.records(live))
        #expect(restored.liveRoomCount == 2)
        #expect(restored.endedRooms.count == live.endedRooms.count)
    }

    /// Live rooms are sharded (docs/decisions.md #36): requests for many rooms applied at once
    /// from several threads, rooms ending (leave) and opening again under the same id, ended
    /// rooms evicted across shards, expiry passes and releases in between. The log, replayed
    /// in LSN order into an empty registry, gives the same registry.
    @Test func concurrentRequestsAcrossShardsReplayToTheSameRegistry() async throws {
        let directory = Self.directory()
        let log = WriteAheadLog(configuration: .init(directory: directory))
        try log.open(after: 0)
        var configuration = RoomRegistryConfiguration()
        configuration.peerTimeoutSeconds = 5
        configuration.maxEndedRooms = 6
        let live = RoomRegistry(configuration: configuration, log: log)
        let t0 = Self.t0
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<4 {
                group.addTask {
                    for step in 0..<80 {
                        let room = "room-\((worker * 7 + step) % 24)", peer = "peer-\(worker)"
                        let ts = t0 + Double(step) * 1000
                        _ = try live.ingest(roomID: room, peerID: peer, batch: RegistryCheckpointTests.batch(Int64(step + 1), at: ts, scale: Double(step + 1)),
                                            arrival: ts + 20, userAgent: nil)
                        if step % 9 == 4 { _ = live.leave(roomID: room, peerID: peer, arrival: ts + 30) }
                        if worker == 0 && step % 10 == 9 {
                            live.expire(now: ts + 40)
                            live.releaseEndedRooms(endedBefore: ts - 20_000)
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        let final = live.snapshot()
        log.finish()
        #expect(live.droppedEndedRooms > 0)

        let restored = RoomRegistry(configuration: configuration)
        let summary = try WriteAheadLog.replay(directory: directory, after: 0) { #expect(restored.replay($0) == nil) }
        #expect(summary.lastLSN == final.logPosition)
        #expect(RegistryCheckpointTests.records(restored) == RegistryCheckpointTests.records(live))
        #expect(restored.liveRoomCount == live.liveRoomCount)
        #expect(restored.livePeerCount == live.livePeerCount)
        #expect(restored.droppedEndedRooms == live.droppedEndedRooms)
        #expect(restored.takeNewlyEnded().map(\.instance) == live.takeNewlyEnded().map(\.instance))
    }

    /// A full disk: the write fails, the waiting request and every later one are told (503),
    /// nothing is acknowledged that is not on disk, and after space returns and a checkpoint the
    /// log starts a new segment holding what it could not write.
    @Test(.enabled(if: SmallFilesystem.mountable, "needs to mount a tmpfs (root, and a machine that allows mounting)"))
    func aFullDiskFailsTheLogUntilACheckpointAndLosesNothingAcknowledged() async throws {
        let disk = try SmallFilesystem(kilobytes: 64)
        let directory = disk.path + "/log"
        let log = WriteAheadLog(configuration: .init(directory: directory))
        try log.open(after: 0)
        await Self.write(log, [.expire(now: 1)])
        let filler = disk.fill()
        let big = RegistryLogRecord.ingest(roomID: "r", peerID: "p", batch: IngestBatch(), arrival: 2, userAgent: String(repeating: "u", count: 20_000))
        let lsn = log.append(big.encoded())
        let written = await withCheckedContinuation { continuation in log.whenWritten(lsn) { continuation.resume(returning: $0) } }
        #expect(!written)
        #expect(log.failure?.contains("No space left") == true)
        let later = log.append(RegistryLogRecord.expire(now: 3).encoded())
        #expect(await withCheckedContinuation { continuation in log.whenWritten(later) { continuation.resume(returning: $0) } } == false)

        unlink(filler)
        log.checkpointed(through: 1)  // a checkpoint with the first record succeeded meanwhile
        #expect(log.failure == nil)
        let after = log.append(RegistryLogRecord.expire(now: 4).encoded())
        #expect(await withCheckedContinuation { continuation in log.whenWritten(after) { continuation.resume(returning: $0) } })
        log.finish()
        // Record 1 went with the segment the checkpoint covered; the rest are in the new one.
        let replayed = try Self.replayed(directory, after: 1)
        let expected = [big, .expire(now: 3), .expire(now: 4)].map { $0.encoded() }
        let same = replayed.records.map { $0.encoded() } == expected  // compared outside #expect: `big` is 20 KB
        #expect(same, "replayed \(replayed.records.count) records, last LSN \(replayed.summary.lastLSN)")
        #expect(replayed.summary.lastLSN == 4)
    }
}
