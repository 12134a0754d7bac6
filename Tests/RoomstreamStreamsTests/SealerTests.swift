import Foundation
import RoomstreamCore
import RoomstreamIngest
@testable import RoomstreamStreams
import Testing
import TestSupport

struct SealerTests {
    static func rooms(count: Int, endingAt t0: Double) throws -> RoomRegistry {
        let registry = RoomRegistry()
        for index in 0..<count {
            var report = StatsReport()
            report.outbound = [OutboundRTP(id: "o", timestamp: t0, kind: .audio, bytesSent: 0, packetsSent: 0)]
            var batch = IngestBatch()
            batch.samples = [.init(seq: 1, ts: t0 + Double(index), pc: "pc", report: report)]
            batch.events = [.init(ts: t0 + Double(index) + 10, kind: .leave)]
            _ = try registry.ingest(roomID: "room-\(index)", peerID: "p", batch: batch, arrival: t0 + Double(index) + 10, userAgent: nil)
        }
        return registry
    }

    static func temporaryDirectory() -> String { NSTemporaryDirectory() + "roomstream-synthetic-seal-\(UUID().uuidString)" }

    static let t0 = 1_662_250_162_885.0

    @Test(arguments: [StreamCompression.none, .gzip])
    func sealedFileIsTheJSONArrayOfTheWindowsRooms(_ compression: StreamCompression) throws {
        let registry = try Self.rooms(count: 3, endingAt: Self.t0)
        let window = StreamWindow.containing(Self.t0, intervalMinutes: 60)
        let definition = StreamDefinition(id: "hourly", compression: compression, destination: .directory(path: "unused"))
        let rooms = registry.endedRooms.filter { window.contains($0.endTime ?? -1) }.sorted { ($0.endTime ?? 0) < ($1.endTime ?? 0) }
        let spool = Self.temporaryDirectory()
        let sealed = try Sealer.seal(records: rooms.map { RoomRecord.json($0, publicURL: "http://x") }, window: window, definition: definition, spoolDirectory: spool, now: Self.t0)
        let stored = try Data(contentsOf: URL(fileURLWithPath: "\(spool)/\(sealed.spoolName)"))
        #expect(stored.count == sealed.bytes)
        // An independent SHA-256 (Python's hashlib) of the stored bytes.
        let python = try ChildProcess("/usr/bin/env", ["python3", "-c", "import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],'rb').read()).hexdigest())", "\(spool)/\(sealed.spoolName)"])
        #expect(python.wait() == 0)
        #expect(sealed.sha256 == python.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(sealed.rooms == 3)
        #expect(sealed.key == "dt=2022-09-04/hourly_20220904T0000Z_20220904T0100Z.json" + (compression == .gzip ? ".gz" : ""))
        let json = compression == .gzip ? Data(try Gzip.decompress(Array(stored), maxOutputBytes: 1 << 24)) : stored
        let array = try #require(try JSONSerialization.jsonObject(with: json) as? [[String: Any]])
        #expect(array.map { $0["room_id"] as? String } == ["room-0", "room-1", "room-2"])
        // Byte for byte what the room query shows (without "state").
        let first = try JSONSerialization.jsonObject(with: Data(RoomRecord.json(rooms[0], publicURL: "http://x").utf8)) as? NSDictionary
        #expect((array[0] as NSDictionary) == first)
        #expect(!FileManager.default.fileExists(atPath: "\(spool)/\(sealed.spoolName).tmp"))
    }

    /// Several 1 MiB batches through the output queue: every record in order, the digest of
    /// the stored bytes (Python's hashlib), and a record that cannot be read fails the seal
    /// and leaves no file behind.
    @Test(arguments: [StreamCompression.none, .gzip])
    func recordsSpanningSeveralBatches(_ compression: StreamCompression) throws {
        let spool = Self.temporaryDirectory()
        let filler = String(repeating: "x", count: 1000)
        let count = 5000  // about 5 MB: five batches
        let definition = StreamDefinition(id: "big", compression: compression, destination: .directory(path: "unused"))
        let window = StreamWindow(start: 0, end: 60_000)
        let sealed = try Sealer.seal(recordCount: count, record: { index throws(StreamError) in Array("{\"i\":\(index),\"f\":\"\(filler)\"}".utf8) },
                                     window: window, definition: definition, spoolDirectory: spool, now: 0)
        let path = "\(spool)/\(sealed.spoolName)"
        let stored = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(stored.count == sealed.bytes)
        let python = try ChildProcess("/usr/bin/env", ["python3", "-c", "import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],'rb').read()).hexdigest())", path])
        #expect(python.wait() == 0)
        #expect(sealed.sha256 == python.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        let json = compression == .gzip ? Data(try Gzip.decompress(Array(stored), maxOutputBytes: 1 << 26)) : stored
        // Batches deflated in parallel still make one gzip member that other readers accept.
        if compression == .gzip { try Self.expectOneGzipMember(path, holding: Array(json)) }
        let array = try #require(try JSONSerialization.jsonObject(with: json) as? [[String: Any]])
        #expect(array.count == count)
        #expect(array.enumerated().allSatisfy { $0.element["i"] as? Int == $0.offset })

        let failing = StreamDefinition(id: "failing", compression: compression, destination: .directory(path: "unused"))
        #expect(throws: StreamError.io(operation: "read", path: "room 3000", errno: EIO)) {
            _ = try Sealer.seal(recordCount: count, record: { index throws(StreamError) in
                if index == 3000 { throw .io(operation: "read", path: "room 3000", errno: EIO) }
                return Array("{\"i\":\(index),\"f\":\"\(filler)\"}".utf8)
            }, window: window, definition: failing, spoolDirectory: spool, now: 0)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: spool) == [sealed.spoolName])
    }

    /// Checks a gzip file with implementations other than the zlib that wrote it: GNU gzip's own
    /// inflate (`gzip -dc`, which checks the CRC-32 and length) gives back `expected`, and
    /// Python's decompressobj finds exactly one member with nothing after it.
    static func expectOneGzipMember(_ path: String, holding expected: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let gzip = try ChildProcess("/usr/bin/env", ["sh", "-c", "gzip -dc \"$1\" | sha256sum", "sh", path])
        #expect(gzip.wait() == 0, "\(gzip.stderr)", sourceLocation: sourceLocation)
        #expect(gzip.stdout.hasPrefix(TextFormat.hex(Digest.sha256(expected))), sourceLocation: sourceLocation)
        let members = try ChildProcess("/usr/bin/env", ["python3", "-c", """
            import sys, zlib
            d = zlib.decompressobj(31)
            d.decompress(open(sys.argv[1], 'rb').read())
            print(d.eof, len(d.unused_data))
            """, path])
        #expect(members.wait() == 0, "\(members.stderr)", sourceLocation: sourceLocation)
        #expect(members.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "True 0", sourceLocation: sourceLocation)
    }

    /// `GzipBlocks` at the edges: empty, one byte, batch boundaries that fall exactly on the end,
    /// many small batches (every one primed with the one before), incompressible bytes (stored
    /// blocks, the output larger than the input), and data whose matches cross batches.
    @Test(arguments: [
        ("empty", 0, 1 << 20), ("one byte", 1, 1 << 20), ("exactly two batches", 2 << 20, 1 << 20),
        ("small batches", 300_000, 4096), ("one-byte batches", 300, 1), ("incompressible", 1_500_000, 1 << 20),
    ])
    func gzipBlocksMakeOneMemberOtherReadersAccept(_ name: String, size: Int, batchBytes: Int) throws {
        // A fixed xorshift sequence: the same bytes every run. Made a word or a period at a
        // time (not byte by byte through a closure: megabytes of that were seconds of CPU under
        // ThreadSanitizer, beside the other tests).
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15 &+ UInt64(size)
        func next() -> UInt64 {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return state
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(size + 8)
        if name == "incompressible" {
            while bytes.count < size { withUnsafeBytes(of: next()) { bytes.append(contentsOf: $0) } }
        } else {
            // A 4,099-byte period (prime, so it never lines up with a batch): text-like runs
            // that deflate well, with matches that reach back across batch boundaries.
            let period = (0..<4099).map { index in index % 1000 == 0 ? UInt8(truncatingIfNeeded: next() % 26) + 97 : UInt8(ascii: "a") + UInt8(index % 7) }
            while bytes.count < size { bytes.append(contentsOf: period.prefix(size - bytes.count)) }
        }
        bytes.removeLast(max(0, bytes.count - size))
        let path = Self.temporaryDirectory() + ".gz"
        let member = try GzipBlocks.member(bytes, batchBytes: batchBytes)
        try Data(member).write(to: URL(fileURLWithPath: path))
        try Self.expectOneGzipMember(path, holding: bytes)
        #expect(try Gzip.decompress(member, maxOutputBytes: 1 << 26) == bytes)
    }

    @Test func emptyWindowGivesAnEmptyArray() throws {
        let window = StreamWindow.containing(Self.t0, intervalMinutes: 5)
        let spool = Self.temporaryDirectory()
        let sealed = try Sealer.seal(records: [], window: window, definition: StreamDefinition(id: "s", destination: .directory(path: "x")), spoolDirectory: spool, now: Self.t0)
        let text = try String(contentsOfFile: "\(spool)/\(sealed.spoolName)", encoding: .utf8)
        #expect(text == "[]\n")
        #expect(sealed.rooms == 0)
    }

    @Test func directoryStorePutsUnderTheKeyAndOverwritesOnRetry() throws {
        let root = Self.temporaryDirectory()
        let source = Self.temporaryDirectory() + ".json"
        try Data("[1]".utf8).write(to: URL(fileURLWithPath: source))
        let store = DirectoryStore(root: root)
        try store.put(key: "dt=2022-09-04/s_1.json", from: source)
        try Data("[2]".utf8).write(to: URL(fileURLWithPath: source))
        try store.put(key: "dt=2022-09-04/s_1.json", from: source)
        #expect(try String(contentsOfFile: "\(root)/dt=2022-09-04/s_1.json", encoding: .utf8) == "[2]")
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(root)/dt=2022-09-04") == ["s_1.json"])
        #expect(throws: StreamError.self) { try store.put(key: "k", from: "/nonexistent") }
    }
}

/// Reading filed records back line by line: plain and gzip (several members), long lines.
struct SealedRoomFinderTests {
    static func write(_ lines: [String], gzip: Bool, members: Int = 1) throws -> String {
        let path = NSTemporaryDirectory() + "roomstream-synthetic-finder-\(UUID().uuidString)"
        let text = "[\n" + lines.joined(separator: ",\n") + "\n]\n"
        var bytes = Array(text.utf8)
        if gzip {
            // Split into members, each a complete gzip stream (RFC 1952 §2.2 allows concatenation).
            let size = bytes.count / members + 1
            var out: [UInt8] = []
            for start in stride(from: 0, to: bytes.count, by: size) {
                out += try GzipBlocks.member(Array(bytes[start..<min(bytes.count, start + size)]))
            }
            bytes = out
        }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    static func file(_ gzip: Bool) -> SealedFile {
        SealedFile(stream: "s", windowStart: 0, windowEnd: 4_000_000_000_000, key: "k", spoolName: "f", rooms: 3, bytes: 0, sha256: "", gzip: gzip,
                   state: .uploaded, attempts: 1, lastError: nil, sealedAt: 0, uploadedAt: 0)
    }

    @Test(arguments: [(false, 1), (true, 1), (true, 3)])
    func findsTheLineOfARoom(gzip: Bool, members: Int) throws {
        let long = String(repeating: "x", count: 300_000)  // longer than one read
        let lines = [
            #"{"room_url":"u","room_id":"a","start_time":"2022-09-04T10:00:00.000Z","pad":"\#(long)"}"#,
            #"{"room_url":"u","room_id":"b \"q\"","start_time":"2022-09-04T10:00:00.000Z"}"#,
            #"{"room_url":"u","room_id":"a","start_time":"2022-09-04T11:00:00.000Z"}"#,
        ]
        let path = try Self.write(lines, gzip: gzip, members: members)
        let files = [(path, Self.file(gzip))]
        #expect(SealedRoomFinder.find(roomID: "a", start: "2022-09-04T11:00:00.000Z", in: files).map { String(decoding: $0, as: UTF8.self) } == lines[2])
        #expect(SealedRoomFinder.find(roomID: "a", start: "2022-09-04T10:00:00.000Z", in: files).map { String(decoding: $0, as: UTF8.self) } == lines[0])
        #expect(SealedRoomFinder.find(roomID: "b \"q\"", start: nil, in: files).map { String(decoding: $0, as: UTF8.self) } == lines[1])
        #expect(SealedRoomFinder.find(roomID: "c", start: nil, in: files) == nil)
        #expect(SealedRoomFinder.find(roomID: "a", start: nil, in: [("/nonexistent", Self.file(gzip))]) == nil)
    }
}
