import Foundation
import RoomstreamCore
@testable import RoomstreamStreams
import Testing

/// The one wire type of a stream definition: config file, admin API and state file all go
/// through `StreamDefinition: Codable`, which validates and names the bad field.
struct StreamDefinitionWireTests {
    static let s3 = StreamDefinition(id: "s3", intervalMinutes: 15, compression: .gzip, writeEmpty: false,
                                     keyTemplate: "{prefix}dt={date}/{stream}_{start}.json", destination: .s3(S3Destination(
                                        endpoint: "http://127.0.0.1:9000", region: "us-east-1", bucket: "b-1", prefix: "p=1/", accessKeyID: "AK",
                                        secretAccessKey: "s3cr3t", pathStyle: true)), paused: true)

    @Test(arguments: [s3, StreamDefinition(id: "d", destination: .directory(path: "files"))])
    func roundTripsThroughJSON(_ definition: StreamDefinition) throws {
        let data = try JSONEncoder().encode(definition)
        #expect(try StreamDefinition.decode(json: data) == definition)
    }

    @Test func answersHideTheSecret() throws {
        let encoder = JSONEncoder()
        encoder.userInfo[.redactSecrets] = true
        let text = String(decoding: try encoder.encode(Self.s3), as: UTF8.self)
        #expect(!text.contains("s3cr3t"))
        #expect(text.contains(#""secret_access_key":"***""#))
    }

    struct Bad: CustomTestStringConvertible, Sendable {
        var json: String
        var field: String
        var testDescription: String { field + " ← " + json }
    }

    static let bad: [Bad] = [
        Bad(json: #"{"id":"a","destination":{"type":"directory","path":"x"},"colour":"red"}"#, field: "colour"),
        Bad(json: #"{"id":"a","compression":"zstd","destination":{"type":"directory","path":"x"}}"#, field: "compression"),
        Bad(json: #"{"id":"a","destination":{"type":"ftp","path":"x"}}"#, field: "destination.type"),
        Bad(json: #"{"id":"a","destination":{"path":"x"}}"#, field: "destination.type"),
        Bad(json: #"{"id":"a","destination":{"type":"directory"}}"#, field: "destination.path"),
        Bad(json: #"{"id":"a","destination":{"type":"directory","path":"x","bucket":"b"}}"#, field: "destination.bucket"),
        Bad(json: #"{"id":"a","destination":"x"}"#, field: "destination"),
        Bad(json: #"{"id":"a"}"#, field: "destination"),
        Bad(json: #"{"destination":{"type":"directory","path":"x"}}"#, field: "id"),
        Bad(json: #"{"id":7,"destination":{"type":"directory","path":"x"}}"#, field: "id"),
        Bad(json: #"{"id":"a","interval_minutes":"60","destination":{"type":"directory","path":"x"}}"#, field: "interval_minutes"),
        Bad(json: #"{"id":"a","interval_minutes":1.5,"destination":{"type":"directory","path":"x"}}"#, field: "interval_minutes"),
        Bad(json: #"{"id":"a","write_empty":1,"destination":{"type":"directory","path":"x"}}"#, field: "write_empty"),
        Bad(json: #"{"id":"a","destination":{"type":"s3","endpoint":"http://h","region":"r","bucket":"bkt","access_key_id":"k","secret_access_key":"***"}}"#, field: "destination.secret_access_key"),
        Bad(json: #"[1]"#, field: "stream"),
    ]

    @Test(arguments: bad)
    func invalidDefinitionsNameTheField(_ testCase: Bad) {
        #expect { try StreamDefinition.decode(json: Data(testCase.json.utf8)) } throws: {
            ($0 as? StreamDefinitionError)?.field == testCase.field
        }
    }

    @Test func aStoredDefinitionThatDoesNotValidateStopsTheStartNamingTheField() throws {
        let data = NSTemporaryDirectory() + "roomstream-wire-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: data + "/streams", withIntermediateDirectories: true)
        let stored = #"{"streams":[{"id":"ok","destination":{"type":"directory","path":"x"}},{"id":"bad","compression":"brotli","destination":{"type":"directory","path":"x"}}],"deleted":[]}"#
        try Data(stored.utf8).write(to: URL(fileURLWithPath: data + "/streams/definitions.json"))
        let configuration = StreamsEngine.Configuration(dataDirectory: data, peerTimeoutSeconds: 30, publicURL: "http://x")
        #expect {
            _ = try StreamsEngine(definitions: [], registry: RoomRegistry(), configuration: configuration, now: 0)
        } throws: { error in
            "\(error)".contains("definitions.json: streams[1].compression: must be none or gzip")
        }
    }

    /// definitions.json written before the single wire type (flat, `destination_type`).
    @Test func theLegacyStoredLayoutIsStillRead() throws {
        let path = NSTemporaryDirectory() + "roomstream-legacy-\(UUID().uuidString).json"
        let legacy = #"{"streams":[{"id":"s","interval_minutes":5,"compression":"gzip","write_empty":true,"key_template":"{prefix}{start}.json","paused":false,"destination_type":"s3","endpoint":"http://h:9","region":"r","bucket":"bkt","prefix":"p/","access_key_id":"k","secret_access_key":"sec","path_style":true}],"deleted":["old"]}"#
        try Data(legacy.utf8).write(to: URL(fileURLWithPath: path))
        let overrides = try #require(try StreamOverrides.load(from: path))
        #expect(overrides.deleted == ["old"])
        #expect(overrides.streams == [StreamDefinition(id: "s", intervalMinutes: 5, compression: .gzip, keyTemplate: "{prefix}{start}.json", destination: .s3(S3Destination(
            endpoint: "http://h:9", region: "r", bucket: "bkt", prefix: "p/", accessKeyID: "k", secretAccessKey: "sec", pathStyle: true)))])
    }
}
