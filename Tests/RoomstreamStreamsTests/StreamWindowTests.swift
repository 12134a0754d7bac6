import RoomstreamCore
import RoomstreamStreams
import Testing

struct StreamWindowTests {
    static func ms(_ iso: String) -> Double { ISO8601Milliseconds.parse(iso) ?? .nan }

    @Test(arguments: [
        ("2022-09-04T00:09:22.885Z", 60, "20220904T0000Z_20220904T0100Z"),
        ("2022-09-04T00:59:59.999Z", 60, "20220904T0000Z_20220904T0100Z"),
        ("2022-09-04T01:00:00.000Z", 60, "20220904T0100Z_20220904T0200Z"),
        ("2022-09-04T23:59:59.999Z", 60, "20220904T2300Z_20220905T0000Z"),
        ("2022-09-04T23:59:59.999Z", 1440, "20220904T0000Z_20220905T0000Z"),
        ("2024-02-29T12:34:56.000Z", 15, "20240229T1230Z_20240229T1245Z"),
        ("2022-12-31T23:59:00.000Z", 7, "20221231T2359Z_20230101T0006Z"),  // 1672531140 s is a multiple of 420
        ("2022-12-31T23:58:59.999Z", 7, "20221231T2352Z_20221231T2359Z"),
        ("1969-12-31T23:59:59.000Z", 60, "19691231T2300Z_19700101T0000Z"),
        ("2022-09-04T00:00:00.000Z", 1, "20220904T0000Z_20220904T0001Z"),
    ])
    func windowContaining(_ time: String, _ minutes: Int, _ expected: String) {
        let window = StreamWindow.containing(Self.ms(time), intervalMinutes: minutes)
        #expect(window.description == expected)
        #expect(window.contains(Self.ms(time)))
        #expect(!window.contains(Double(window.end)))
    }

    @Test func windowsTileTime() {
        var window = StreamWindow.containing(Self.ms("2022-09-04T22:00:00.000Z"), intervalMinutes: 90)
        for _ in 0..<40 {
            let next = window.next
            #expect(next.start == window.end)
            #expect(next.end - next.start == 90 * 60_000)
            window = next
        }
    }

    @Test func defaultKeysAreSortableAndDatePartitioned() {
        let window = StreamWindow.containing(Self.ms("2022-09-04T00:09:22.885Z"), intervalMinutes: 60)
        let s3 = StreamDefinition(id: "hourly", destination: .s3(S3Destination(endpoint: "https://s3.amazonaws.com", region: "eu-west-1", bucket: "bi-bucket", prefix: "rooms/", accessKeyID: "AK", secretAccessKey: "S")))
        #expect(s3.key(for: window) == "rooms/dt=2022-09-04/hourly_20220904T0000Z_20220904T0100Z.json")
        var gzip = StreamDefinition(id: "daily", intervalMinutes: 1440, compression: .gzip, destination: .directory(path: "/tmp/x"))
        #expect(gzip.key(for: window) == "dt=2022-09-04/daily_20220904T0000Z_20220904T0100Z.json.gz")
        gzip.keyTemplate = "{stream}/{date}/{start}.json"
        #expect(gzip.key(for: window) == "daily/2022-09-04/20220904T0000Z.json.gz")
    }

    struct Invalid: Sendable, CustomTestStringConvertible {
        var definition: StreamDefinition
        var field: String
        var testDescription: String { field }
    }

    static let s3 = S3Destination(endpoint: "http://127.0.0.1:9000", region: "us-east-1", bucket: "bucket", accessKeyID: "AK", secretAccessKey: "S", pathStyle: true)

    static let invalid: [Invalid] = [
        Invalid(definition: StreamDefinition(id: "Bad Id", destination: .directory(path: "x")), field: "id"),
        Invalid(definition: StreamDefinition(id: "", destination: .directory(path: "x")), field: "id"),
        Invalid(definition: StreamDefinition(id: "a", intervalMinutes: 0, destination: .directory(path: "x")), field: "interval_minutes"),
        Invalid(definition: StreamDefinition(id: "a", intervalMinutes: 1441, destination: .directory(path: "x")), field: "interval_minutes"),
        Invalid(definition: StreamDefinition(id: "a", keyTemplate: "{stream}.json", destination: .directory(path: "x")), field: "key_template"),
        Invalid(definition: StreamDefinition(id: "a", keyTemplate: "../{start}", destination: .directory(path: "x")), field: "key_template"),
        Invalid(definition: StreamDefinition(id: "a", destination: .directory(path: "")), field: "destination.path"),
        Invalid(definition: StreamDefinition(id: "a", keyTemplate: "{start}\t.json", destination: .directory(path: "x")), field: "key_template"),
        Invalid(definition: StreamDefinition(id: "a", keyTemplate: "{start}/{room}.json", destination: .directory(path: "x")), field: "key_template"),
        Invalid(definition: StreamDefinition(id: "a", keyTemplate: "a//{start}", destination: .directory(path: "x")), field: "key_template"),
        Invalid(definition: StreamDefinition(id: "a", keyTemplate: "a/./{start}", destination: .directory(path: "x")), field: "key_template"),
        Invalid(definition: StreamDefinition(id: "a", keyTemplate: "/{start}", destination: .directory(path: "x")), field: "key_template"),
        Invalid(definition: StreamDefinition(id: "a", destination: .s3({ var d = s3; d.prefix = "/abs/"; return d }())), field: "destination.prefix"),
        Invalid(definition: StreamDefinition(id: "a", destination: .s3({ var d = s3; d.prefix = "a/../b/"; return d }())), field: "destination.prefix"),
        Invalid(definition: StreamDefinition(id: "a", destination: .s3({ var d = s3; d.prefix = "{stream}/"; return d }())), field: "destination.prefix"),
        Invalid(definition: StreamDefinition(id: "a", destination: .s3({ var d = s3; d.prefix = String(repeating: "p", count: 1000) + "/"; return d }())), field: "key_template"),
        Invalid(definition: StreamDefinition(id: "a", destination: .s3({ var d = s3; d.endpoint = "s3.local"; return d }())), field: "destination.endpoint"),
        Invalid(definition: StreamDefinition(id: "a", destination: .s3({ var d = s3; d.bucket = "ab"; return d }())), field: "destination.bucket"),
        Invalid(definition: StreamDefinition(id: "a", destination: .s3({ var d = s3; d.bucket = "Upper"; return d }())), field: "destination.bucket"),
        Invalid(definition: StreamDefinition(id: "a", destination: .s3({ var d = s3; d.accessKeyID = ""; return d }())), field: "destination.access_key_id"),
        Invalid(definition: StreamDefinition(id: "a", destination: .s3({ var d = s3; d.secretAccessKeyEnv = "X"; return d }())), field: "destination.secret_access_key"),
        Invalid(definition: StreamDefinition(id: "a", destination: .s3({ var d = s3; d.secretAccessKey = nil; return d }())), field: "destination.secret_access_key"),
        Invalid(definition: StreamDefinition(id: "a", destination: .s3({ var d = s3; d.region = ""; return d }())), field: "destination.region"),
    ]

    @Test("validation names the field", arguments: invalid)
    func validation(_ testCase: Invalid) {
        #expect { try testCase.definition.validate() } throws: { ($0 as? StreamDefinitionError)?.field == testCase.field }
    }

    @Test func validDefinitionsPass() throws {
        try StreamDefinition(id: "hourly-1", destination: .directory(path: "data/files")).validate()
        try StreamDefinition(id: "s3_daily", intervalMinutes: 1440, compression: .gzip, destination: .s3(Self.s3)).validate()
        // Keys may hold '=', ':', '+', spaces, '%', '..' inside a name and non-ASCII (sent %-encoded once).
        var awkward = Self.s3
        awkward.prefix = "exports=1/a:b+c d%/réunion 日本/"
        try StreamDefinition(id: "a", keyTemplate: "{prefix}dt={date}/x..y/{stream} {start}+{end}.json", destination: .s3(awkward)).validate()
    }
}

/// Seal scheduling with explicit times across day boundaries.
struct SealSchedulerTests {
    static func ms(_ iso: String) -> Double { ISO8601Milliseconds.parse(iso) ?? .nan }

    @Test func aWindowIsDueOnlyAfterItsWatermark() {
        var scheduler = SealScheduler(intervalMinutes: 60, peerTimeoutSeconds: 30, graceSeconds: 30, firstWindowContaining: Self.ms("2022-09-04T23:10:00.000Z"))
        #expect(scheduler.nextWindow.description == "20220904T2300Z_20220905T0000Z")
        #expect(scheduler.due(now: Self.ms("2022-09-05T00:00:59.999Z")).isEmpty)
        let due = scheduler.due(now: Self.ms("2022-09-05T00:01:00.000Z"))
        #expect(due.map(\.description) == ["20220904T2300Z_20220905T0000Z"])
        let sealed = scheduler.sealed(due[0])
        #expect(sealed)
        #expect(scheduler.nextWindow.description == "20220905T0000Z_20220905T0100Z")
        #expect(Double(scheduler.nextSealTime) == Self.ms("2022-09-05T01:01:00.000Z"))
    }

    @Test func anEarlySealCutsTheWindowAndTheRestFollowsToTheBoundary() {
        var scheduler = SealScheduler(intervalMinutes: 60, peerTimeoutSeconds: 30, graceSeconds: 10, firstWindowContaining: Self.ms("2022-09-04T10:05:00.000Z"))
        let now = Int64(Self.ms("2022-09-04T10:17:23.000Z"))
        // Outside the window, or at its start: refused.
        #expect(scheduler.sealEarly(at: Int64(Self.ms("2022-09-04T10:00:00.000Z")), now: now) == nil)
        #expect(scheduler.sealEarly(at: Int64(Self.ms("2022-09-04T11:00:00.000Z")), now: now) == nil)
        let early = scheduler.sealEarly(at: now, now: now)
        #expect(early?.description == "20220904T1000Z_20220904T101723Z")
        #expect(scheduler.due(now: Double(now)).map(\.description) == ["20220904T1000Z_20220904T101723Z"])
        #expect(scheduler.nextSealTime == now)
        let sealed = scheduler.sealed(scheduler.nextWindow)
        #expect(sealed)
        // The rest of the hour, then whole hours again, each at its usual watermark.
        #expect(scheduler.nextWindow.description == "20220904T101723Z_20220904T1100Z")
        #expect(Double(scheduler.nextSealTime) == Self.ms("2022-09-04T11:00:40.000Z"))
        #expect(scheduler.due(now: Self.ms("2022-09-04T12:00:40.000Z")).map(\.description) == [
            "20220904T101723Z_20220904T1100Z", "20220904T1100Z_20220904T1200Z",
        ])
        // A restart after the early seal resumes at the cut, to the boundary.
        let resumed = SealScheduler(intervalMinutes: 60, peerTimeoutSeconds: 30, graceSeconds: 10, resumingAt: now)
        #expect(resumed.nextWindow.description == "20220904T101723Z_20220904T1100Z")
    }

    @Test func missedWindowsAfterDowntimeComeDueInOrder() {
        let last = StreamWindow.containing(Self.ms("2022-09-04T21:30:00.000Z"), intervalMinutes: 60)
        var scheduler = SealScheduler(intervalMinutes: 60, peerTimeoutSeconds: 30, graceSeconds: 5, resumingAt: last.end)
        let due = scheduler.due(now: Self.ms("2022-09-05T01:30:00.000Z"))
        #expect(due.map(\.description) == [
            "20220904T2200Z_20220904T2300Z", "20220904T2300Z_20220905T0000Z", "20220905T0000Z_20220905T0100Z",
        ])
        let outOfOrder = scheduler.sealed(due[1])
        #expect(!outOfOrder)  // ignored
        let inOrder = due.map { scheduler.sealed($0) }
        #expect(inOrder == [true, true, true])
        #expect(scheduler.due(now: Self.ms("2022-09-05T01:30:00.000Z")).isEmpty)
    }

    @Test func dailyWindowsAcrossAMonthBoundary() {
        let scheduler = SealScheduler(intervalMinutes: 1440, peerTimeoutSeconds: 30, graceSeconds: 30, firstWindowContaining: Self.ms("2024-02-28T10:00:00.000Z"))
        let due = scheduler.due(now: Self.ms("2024-03-02T00:00:00.000Z"))
        #expect(due.map(\.startDate) == ["2024-02-28", "2024-02-29"])
    }
}
