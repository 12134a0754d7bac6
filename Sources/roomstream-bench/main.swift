// roomstream's own benchmark harness (`make bench`): decode + apply of real Chrome getStats()
// bodies against Foundation's JSONDecoder on the same bodies, and resident memory per live
// peer. Figures are reported with their ratio to the baseline measured in the same run.
#if canImport(Glibc)
import Glibc
#endif
import CSimdjson
import Foundation
import RoomstreamCore
import RoomstreamIngest
import RoomstreamStreams

/// The fields our decoder extracts, as Codable, for the JSONDecoder baseline.
struct CodableBody: Decodable {
    struct Sample: Decodable {
        var seq: Int64
        var ts: Double
        var pc: String
        var stats: [Stat]
    }
    struct Stat: Decodable {
        var id: String?
        var type: String?
        var timestamp: Double?
        var kind: String?
        var bytesSent: Double?
        var packetsSent: Double?
        var bytesReceived: Double?
        var packetsReceived: Double?
        var packetsLost: Double?
        var jitter: Double?
        var roundTripTime: Double?
        var localId: String?
        var currentRoundTripTime: Double?
        var selectedCandidatePairId: String?
        var candidateType: String?
    }
    var sdk_version: String?
    var user_agent: String?
    var samples: [Sample]?
}

func residentBytes() -> Int {
    // Without /proc (not Linux) the figure is reported as 0 rather than failing the benchmark.
    guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = statm.split(separator: " ")
    return (fields.count > 1 ? Int(fields[1]) ?? 0 : 0) * Int(sysconf(Int32(_SC_PAGESIZE)))
}

func time(_ iterations: Int, _ body: (Int) throws -> Void) rethrows -> Double {
    let clock = ContinuousClock()
    let start = clock.now
    for index in 0..<iterations { try body(index) }
    let elapsed = clock.now - start
    return elapsed.seconds / Double(iterations) * 1e6
}

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    print("usage: roomstream-bench CAPTURE.ndjson [iterations]")
    exit(2)
}
let iterations = arguments.count > 2 ? Int(arguments[2]) ?? 2000 : 2000

// One peer's bodies, in order, from a real capture.
let lines = try String(contentsOfFile: arguments[1], encoding: .utf8).split(separator: "\n")
var bodies: [[UInt8]] = []
var firstPeer: String?
for line in lines {
    guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
          let peer = object["peer"] as? String, let body = object["body"] else { continue }
    if firstPeer == nil { firstPeer = peer }
    guard peer == firstPeer else { continue }
    let data = try JSONSerialization.data(withJSONObject: body)
    if data.count > 4000 { bodies.append(Array(data)) }
}
guard !bodies.isEmpty else {
    print("no sample bodies in \(arguments[1])")
    exit(1)
}
let meanBytes = bodies.map(\.count).reduce(0, +) / bodies.count
print("bodies: \(bodies.count) from \(firstPeer ?? "?"), mean \(meanBytes) bytes; \(iterations) iterations each")

// Warm up both paths.
for body in bodies { _ = try IngestDecoder.decode(body); _ = try JSONDecoder().decode(CodableBody.self, from: Data(body)) }

var peer = Peer(id: "bench")
var cycle = 0
let decodeApply = try time(iterations) { index in
    let body = bodies[index % bodies.count]
    if index % bodies.count == 0 {
        peer = Peer(id: "bench-\(cycle)")  // the capture's seq numbers restart: a fresh peer per pass
        cycle += 1
    }
    let batch = try IngestDecoder.decode(body)
    _ = peer.apply(batch, arrival: (batch.latestTimestamp ?? 0) + 50, defaultUserAgent: nil)
}
let parseOnly = time(iterations) { index in
    var root = rs_json_ref()
    var message: UnsafePointer<CChar>?
    // SAFETY: simdjson copies the bytes during the call.
    _ = bodies[index % bodies.count].withUnsafeBytes { rs_json_parse($0.baseAddress?.assumingMemoryBound(to: UInt8.self), $0.count, 0, 64, &root, &message) }
}
let decodeOnly = try time(iterations) { index in _ = try IngestDecoder.decode(bodies[index % bodies.count]) }
let decoder = JSONDecoder()
let foundation = try time(iterations) { index in _ = try decoder.decode(CodableBody.self, from: Data(bodies[index % bodies.count])) }
let per10KB = decodeApply * 10_240 / Double(meanBytes)
print(String(format: "decode+apply (simdjson):   %8.2f us/sample  %8.2f us per 10 KB", decodeApply, per10KB))
print(String(format: "decode only (simdjson):    %8.2f us/sample (of which simdjson's parse %.2f)", decodeOnly, parseOnly))
print(String(format: "JSONDecoder (same fields): %8.2f us/sample  (baseline)", foundation))
print(String(format: "ratio decode+apply / JSONDecoder: %.3fx (%.1fx faster)", decodeApply / foundation, foundation / decodeApply))
print(String(format: "goal: <= 20 us per 10 KB decoded and applied: %@", per10KB <= 20 ? "met" : "NOT met"))

// Resident memory per live peer: 10,000 peers in 5,000 rooms, each with a few real samples.
let registry = RoomRegistry()
let decoded = try bodies.prefix(3).map { try IngestDecoder.decode($0) }
let before = residentBytes()
let peers = 10_000
for index in 0..<peers {
    for batch in decoded {
        _ = try registry.ingest(roomID: "room-\(index / 2)", peerID: "peer-\(index)", batch: batch, arrival: (batch.latestTimestamp ?? 0) + 50, userAgent: nil)
    }
}
let after = residentBytes()
print(String(format: "resident memory per live peer: %.0f bytes (%d peers, %d live rooms; goal <= 2048)", Double(after - before) / Double(peers), peers, registry.liveRoomCount))
print(String(format: "live state the registry accounts (ingest.max_live_state_mib): %.0f bytes per peer, %.2fx the resident growth", Double(registry.liveStateBytes) / Double(peers), Double(registry.liveStateBytes) / Double(after - before)))
print("layout: Peer \(MemoryLayout<Peer>.size) B, MediaAccumulator \(MemoryLayout<MediaAccumulator>.size) B, Room \(MemoryLayout<Room>.size) B")

// The write-ahead log: record size against the JSON body, and start-up replay speed (records
// replayed into a registry per second) for 20,000 real samples.
let logDirectory = NSTemporaryDirectory() + "roomstream-bench-wal-\(getpid())"
let log = WriteAheadLog(configuration: .init(directory: logDirectory, policy: .none))
try log.open(after: 0)
let logged = RoomRegistry(log: log)
var recordBytes = 0
let records = 20_000
let decodedBatches = try bodies.map { try IngestDecoder.decode($0) }
for index in 0..<records {
    let batch = decodedBatches[index % decodedBatches.count]
    recordBytes += RegistryLogRecord.ingest(roomID: "room-\(index % 500)", peerID: "peer-\(index % 1000)", batch: batch, arrival: 0, userAgent: nil).encoded().count
    var shifted = batch
    for sample in shifted.samples.indices { shifted.samples[sample].seq += Int64(index / bodies.count) * 10_000 }
    _ = try logged.ingest(roomID: "room-\(index % 500)", peerID: "peer-\(index % 1000)", batch: shifted, arrival: (batch.latestTimestamp ?? 0) + 50, userAgent: nil)
}
log.finish()
// Encoding alone (on every accepted request's path while the log is on), best of 3 passes.
var encodeBest = Double.infinity
var encodedSink = 0
for _ in 0..<3 {
    let encodeStart = ContinuousClock.now
    for index in 0..<records {
        encodedSink &+= RegistryLogRecord.ingest(roomID: "room-\(index % 500)", peerID: "peer-\(index % 1000)", batch: decodedBatches[index % decodedBatches.count],
                                                arrival: 0, userAgent: nil).encoded().count
    }
    encodeBest = min(encodeBest, (ContinuousClock.now - encodeStart).seconds)
}
print(String(format: "write-ahead log: encoding %.2f µs per record (best of 3 passes over %d records)", encodeBest * 1e6 / Double(records), records))
let replayed = RoomRegistry()
let replayClock = ContinuousClock()
let replayStart = replayClock.now
let summary = try WriteAheadLog.replay(directory: logDirectory, after: 0) { replayed.replay($0) }
let replaySeconds = (replayClock.now - replayStart).seconds
print(String(format: "write-ahead log: %.0f bytes per record against %d bytes of JSON body (%.2fx); replay %.0f records/s (%d records, %.1f MB)",
             Double(recordBytes) / Double(records), meanBytes, Double(recordBytes) / Double(records) / Double(meanBytes),
             Double(summary.applied) / replaySeconds, summary.applied, Double(log.statistics.bytesWritten) / 1e6))
try? FileManager.default.removeItem(atPath: logDirectory)  // a scratch directory: nothing to report if it lingers

// Group commits under the default fsync policy: buffered writes and fdatasync against direct
// synchronous writes (O_DIRECT | O_DSYNC, decision #61). A group is 20 records of a real
// sample, about one loop batch at saturation; process CPU (every thread's, not the kernel
// workers') and wall time per group, the two alternating, 3 rounds of 1,000 groups each.
func processCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}
let groupRecord = RegistryLogRecord.ingest(roomID: "room-1", peerID: "peer-1", batch: decodedBatches[0], arrival: 0, userAgent: nil).encoded()
var groupCPU = [false: 0.0, true: 0.0], groupWall = [false: 0.0, true: 0.0]
var directAlignment = 0
let groupsPerRound = 1000
for round in 0..<3 {
    for direct in [false, true] {
        var configuration = WriteAheadLog.Configuration(directory: logDirectory + "-sync-\(round)-\(direct)")
        configuration.directWrites = direct
        let syncLog = WriteAheadLog(configuration: configuration)
        try syncLog.open(after: 0)
        if direct { directAlignment = syncLog.statistics.directWriteAlignment }
        let cpuStart = processCPUSeconds()
        let wallStart = ContinuousClock.now
        for _ in 0..<groupsPerRound {
            syncLog.batchBegan()
            var last: UInt64 = 0
            for _ in 0..<20 { last = syncLog.append(groupRecord) }
            syncLog.batchEnded()
            let written = DispatchSemaphore(value: 0)
            syncLog.whenWritten(last) { _ in written.signal() }
            written.wait()
        }
        groupCPU[direct, default: 0] += processCPUSeconds() - cpuStart
        groupWall[direct, default: 0] += (ContinuousClock.now - wallStart).seconds
        syncLog.finish()
        try? FileManager.default.removeItem(atPath: configuration.directory)  // scratch, as above
    }
}
let perGroup = { (seconds: Double) in seconds * 1e6 / Double(3 * groupsPerRound) }
if directAlignment > 0 {
    print(String(format: "write-ahead log, fsync policy, groups of 20 records: buffered write + fdatasync %.1f µs CPU, %.0f µs wall per group; direct synchronous write %.1f µs CPU, %.0f µs wall (%d-byte alignment); direct/buffered CPU %.2fx, wall %.2fx",
                 perGroup(groupCPU[false] ?? 0), perGroup(groupWall[false] ?? 0), perGroup(groupCPU[true] ?? 0), perGroup(groupWall[true] ?? 0), directAlignment,
                 (groupCPU[true] ?? 0) / (groupCPU[false] ?? 1), (groupWall[true] ?? 0) / (groupWall[false] ?? 1)))
} else {
    print(String(format: "write-ahead log, fsync policy, groups of 20 records: buffered write + fdatasync %.1f µs CPU, %.0f µs wall per group (no direct I/O on %@'s filesystem)",
                 perGroup(groupCPU[false] ?? 0), perGroup(groupWall[false] ?? 0), NSTemporaryDirectory()))
}

// Sealing: a window of 100,000 ended rooms read from the journal, gzip on (goal < 2 s). The
// journal entries are the records of the rooms above, each written once as a plain file (the
// service writes each durably when its room ends; that cost is not the seal's).
let sealDirectory = NSTemporaryDirectory() + "roomstream-bench-seal-\(getpid())"
let journal = EndedRoomJournal(directory: sealDirectory + "/ended")
try FileManager.default.createDirectory(atPath: journal.directory, withIntermediateDirectories: true)
let endedRecords = registry.expire(now: .greatestFiniteMagnitude).prefix(1000).map { Array(RoomRecord.json($0, publicURL: "http://bench").utf8) }
let sealRooms = 100_000
for index in 0..<sealRooms {
    let name = "\(TextFormat.padded(1_700_000_000_000 + index, width: 15))-\(TextFormat.padded(index, width: 24)).json"
    _ = FileManager.default.createFile(atPath: "\(journal.directory)/\(name)", contents: Data(endedRecords[index % endedRecords.count]))
}
// The engine lists the journal once at start and keeps the entries in memory: a seal reads,
// compresses and writes; the list is timed on its own below.
let sealClock = ContinuousClock()
let entries = try journal.list()
let sealStart = sealClock.now
let sealed = try Sealer.seal(
    recordCount: entries.count, record: { index throws(StreamError) in try journal.read(entries[index]) },
    window: StreamWindow(start: 1_700_000_000_000, end: 1_700_003_600_000),
    definition: StreamDefinition(id: "bench", intervalMinutes: 60, compression: .gzip, destination: .directory(path: sealDirectory + "/files")),
    spoolDirectory: sealDirectory + "/spool", now: 0)
let sealSeconds = (sealClock.now - sealStart).seconds
let listStart = sealClock.now
_ = try journal.list()
let listSeconds = (sealClock.now - listStart).seconds
let readStart = sealClock.now
var recordBytes100k = 0
for entry in entries { recordBytes100k += try journal.read(entry).count }
let readSeconds = (sealClock.now - readStart).seconds
print(String(format: "seal parts: list at start-up %.2f s (not in the seal), read %.2f s (%.0f MB of records)", listSeconds, readSeconds, Double(recordBytes100k) / 1e6))
print(String(format: "seal: %d rooms from the journal, gzip: %.2f s (goal < 2 s: %@), %.1f MB file", sealed.rooms, sealSeconds,
             sealSeconds < 2 ? "met" : "NOT met", Double(sealed.bytes) / 1e6))
try? FileManager.default.removeItem(atPath: sealDirectory)  // a scratch directory: nothing to report if it lingers
