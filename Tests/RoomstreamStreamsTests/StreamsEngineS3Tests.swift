import Foundation
import RoomstreamCore
import RoomstreamIngest
import RoomstreamStreams
import Testing
import TestSupport

/// The engine delivering to the S3 servers `make test` starts (moto and rclone, path-style and
/// virtual-hosted), with the default key template (`dt=` partitions) and awkward prefixes.
@Suite(.enabled(if: S3TestTarget.runnable, "needs the S3 servers of `make test`"), .serialized)
struct StreamsEngineS3Tests {
    func engine(_ data: String, _ definition: StreamDefinition, _ registry: RoomRegistry, now: Double, multipartAbove: Int = 64 << 20) throws -> StreamsEngine {
        var configuration = StreamsEngine.Configuration(dataDirectory: data, peerTimeoutSeconds: 30, publicURL: "http://x")
        configuration.graceSeconds = 1
        configuration.multipartThresholdBytes = multipartAbove
        return try StreamsEngine(definitions: [definition], registry: registry, configuration: configuration, now: now)
    }

    @Test(arguments: S3TestTarget.names)
    func wrongSecretRetriesWithTheStoresErrorAndAFixedConfigDelivers(_ name: String) throws {
        let moto = try S3TestTarget.require(name)
        let data = NSTemporaryDirectory() + "roomstream-s3-\(UUID().uuidString)"
        let t0 = StreamsEngineTests.ms("2022-09-04T10:00:00.000Z")
        let registry = RoomRegistry()
        var wrong = moto.destination()
        wrong.prefix = "wrong secret: \(UUID().uuidString)+é/"
        wrong.secretAccessKey = "not-the-secret"
        let failing = try engine(data, StreamDefinition(id: "s3m1", intervalMinutes: 1, destination: .s3(wrong)), registry, now: t0)
        try StreamsEngineTests.endRoom(registry, "r1", at: t0 + 20_000)
        failing.tick(now: t0 + 100_000)
        let file = try #require(failing.statuses[0].files.first, "\(failing.statuses[0].lastError ?? "no error")")
        #expect(file.state == .retrying)
        #expect(file.lastError?.contains("403") == true)
        #expect(file.lastError?.contains("SignatureDoesNotMatch") == true)

        // The operator fixes the secret (a restart with the corrected config): delivered once.
        var fixed = wrong
        fixed.secretAccessKey = moto.secretAccessKey
        let working = try engine(data, StreamDefinition(id: "s3m1", intervalMinutes: 1, destination: .s3(fixed)), registry, now: t0 + 101_000)
        working.tick(now: t0 + 101_000)
        let delivered = try #require(working.statuses[0].files.first)
        #expect(delivered.state == .uploaded)
        #expect(working.statuses[0].files.count == 1)
        let object = try S3Client(destination: fixed, secret: moto.secretAccessKey).get(key: delivered.key)
        let spool = try #require(working.spoolPath(stream: "s3m1", file: delivered.spoolName))
        #expect(object == Array(try Data(contentsOf: URL(fileURLWithPath: spool.path))))
        #expect(delivered.key.hasPrefix(fixed.prefix + "dt=2022-09-04/s3m1_20220904T1000Z_20220904T1001Z.json"))
    }

    @Test(arguments: S3TestTarget.names)
    func storeDownForSeveralWindowsKeepsTheFilesAndDeliversThemLaterWithoutGaps(_ name: String) throws {
        let moto = try S3TestTarget.require(name)
        let data = NSTemporaryDirectory() + "roomstream-s3-\(UUID().uuidString)"
        let t0 = StreamsEngineTests.ms("2022-09-04T23:58:00.000Z")
        let registry = RoomRegistry()
        var down = moto.destination()
        down.prefix = "down=\(UUID().uuidString)/"
        down.endpoint = "http://127.0.0.1:9"  // nothing listens there
        // Path-style while down: a virtual-hosted `bucket.127.0.0.1` name goes to curl's threaded
        // resolver, and Debian's libcurl 7.88 once blocked for good there in a sanitizer run (a
        // blocking read of its resolver socketpair); refused at connect is the outage meant here.
        down.pathStyle = true
        let definition = StreamDefinition(id: "gz", intervalMinutes: 1, compression: .gzip, destination: .s3(down))
        let offline = try engine(data, definition, registry, now: t0)
        for minute in 0..<4 { try StreamsEngineTests.endRoom(registry, "room-\(minute)", at: t0 + Double(minute) * 60_000 + 30_000) }
        offline.tick(now: t0 + 5 * 60_000)
        #expect(offline.statuses[0].files.count == 4, "\(offline.statuses[0].lastError ?? "no error")")
        #expect(offline.statuses[0].files.allSatisfy { $0.state == .retrying && $0.lastError?.contains("network") == true })

        // The store is back; the service restarted in between.
        var up = down
        up.endpoint = moto.endpoint
        up.pathStyle = moto.destination().pathStyle
        let online = try engine(data, StreamDefinition(id: "gz", intervalMinutes: 1, compression: .gzip, destination: .s3(up)), registry, now: t0 + 6 * 60_000)
        online.tick(now: t0 + 6 * 60_000)
        let files = online.statuses[0].files
        #expect(files.count == 5)  // the 4 windows, then the next one sealed at this tick
        #expect(files.allSatisfy { $0.state == .uploaded }, "\(files.map { "\($0.key): \($0.state) \($0.lastError ?? "")" })")
        let windows = files.map(\.window)
        #expect(zip(windows, windows.dropFirst()).allSatisfy { $0.end == $1.start })  // no gaps, no repeats
        let client = S3Client(destination: up, secret: moto.secretAccessKey)
        for (index, file) in files.prefix(4).enumerated() {
            let object = try client.get(key: file.key)
            let json = try #require(try JSONSerialization.jsonObject(with: Data(try gunzip(object))) as? [[String: Any]])
            #expect(json.map { $0["room_id"] as? String } == ["room-\(index)"])
        }
    }

    /// One room ended in a window, sealed and delivered at the next tick; the file and the bytes
    /// the spool holds. `multipart`: threshold 0, so even this small file goes as a multipart
    /// upload (one part).
    func deliverOneFile(_ target: S3TestTarget, prefix: String, compression: StreamCompression = .none, multipart: Bool)
        throws -> (destination: S3Destination, file: SealedFile, stored: [UInt8]) {
        let data = NSTemporaryDirectory() + "roomstream-s3-\(UUID().uuidString)"
        let t0 = StreamsEngineTests.ms("2022-09-04T10:00:00.000Z")
        let registry = RoomRegistry()
        var destination = target.destination()
        destination.prefix = "\(prefix)\(UUID().uuidString.lowercased())/"
        let engine = try engine(data, StreamDefinition(id: "one", intervalMinutes: 1, compression: compression, destination: .s3(destination)), registry, now: t0,
                                multipartAbove: multipart ? 0 : 64 << 20)
        try StreamsEngineTests.endRoom(registry, "r", at: t0 + 10_000)
        engine.tick(now: t0 + 100_000)
        let file = try #require(engine.statuses[0].files.first, "\(engine.statuses[0].lastError ?? "no error")")
        #expect(file.state == .uploaded, "\(file.lastError ?? "")")
        let spool = try #require(engine.spoolPath(stream: "one", file: file.spoolName))
        return (destination, file, Array(try Data(contentsOf: URL(fileURLWithPath: spool.path))))
    }

    @Test(arguments: S3TestTarget.names)
    func filesAboveTheThresholdGoAsMultipartUploads(_ name: String) throws {
        let target = try S3TestTarget.require(name)
        let (destination, file, stored) = try deliverOneFile(target, prefix: "multipart:", multipart: true)
        #expect(try S3Client(destination: destination, secret: target.secretAccessKey).get(key: file.key) == stored)
    }

    /// A delivered `.json.gz` is stored as a file (issue 12): `Content-Type: application/gzip`
    /// and no `Content-Encoding`, so a client that inflates encoded content (boto3 here, an
    /// independent implementation; browsers, Python requests) saves exactly what the spool
    /// holds. Single PUT and multipart, on both servers (read path-style by boto3).
    @Test(arguments: S3TestTarget.names.filter { $0.hasSuffix("path-style") }, [false, true])
    func gzipObjectsAreStoredAsFiles(_ name: String, _ multipart: Bool) throws {
        let target = try S3TestTarget.require(name)
        let (_, file, stored) = try deliverOneFile(target, prefix: "gzip-", compression: .gzip, multipart: multipart)
        let script = """
        import boto3, botocore.config, json, sys
        s3 = boto3.client('s3', endpoint_url=sys.argv[1], region_name='us-east-1', aws_access_key_id=sys.argv[2], aws_secret_access_key=sys.argv[3],
                          config=botocore.config.Config(s3={'addressing_style': 'path'}))
        o = s3.get_object(Bucket=sys.argv[4], Key=sys.argv[5])
        open(sys.argv[6], 'wb').write(o['Body'].read())
        print(json.dumps({'type': o.get('ContentType'), 'encoding': o.get('ContentEncoding')}))
        """
        let saved = NSTemporaryDirectory() + "roomstream-s3-saved-\(UUID().uuidString).json.gz"
        let child = try ChildProcess("/usr/bin/env", ["python3", "-c", script, target.endpoint, target.accessKeyID, target.secretAccessKey, target.bucket, file.key, saved])
        #expect(child.wait() == 0, "\(child.stderr)")
        let read = try #require(try JSONSerialization.jsonObject(with: Data(child.stdout.utf8)) as? [String: Any])
        #expect(read["type"] as? String == "application/gzip")
        #expect(read["encoding"] is NSNull || read["encoding"] == nil)
        #expect(Array(try Data(contentsOf: URL(fileURLWithPath: saved))) == stored)
    }

    /// With zlib (RoomstreamIngest's Gzip), not a gzip child process: Foundation.Process trips ASan here.
    func gunzip(_ bytes: [UInt8]) throws -> [UInt8] {
        try Gzip.decompress(bytes, maxOutputBytes: 1 << 26)
    }

}
