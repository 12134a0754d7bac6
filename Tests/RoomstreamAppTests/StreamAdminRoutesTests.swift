import Foundation
@testable import RoomstreamApp
import RoomstreamCore
import RoomstreamStreams
import TestSupport
import Testing

/// The stream admin API over HTTP, persisted across restarts, and the wrong-secret → PATCH →
/// delivered path against moto's S3 server.
struct StreamAdminRoutesTests {
    func send(_ app: AppTestService, _ method: String, _ target: String, _ json: String = "") throws -> ClientResponse? {
        try app.request(method, target, headers: ["Authorization": "Bearer \(AppTestService.adminToken)", "Content-Type": "application/json"], body: Array(json.utf8))
    }

    @Test func createChangeDeleteSurviveARestart() async throws {
        let data = NSTemporaryDirectory() + "roomstream-admin-\(UUID().uuidString)"
        let store = data + "/store"
        var app = try AppTestService { $0.dataDirectory = data; $0.streams = [StreamDefinition(id: "configured", destination: .directory(path: store))] }
        #expect(try send(app, "POST", "/v1/streams", #"{"id":"api","interval_minutes":15,"destination":{"type":"directory","path":"files/api"}}"#)?.status == 201)
        #expect(try send(app, "POST", "/v1/streams", #"{"id":"api","destination":{"type":"directory","path":"x"}}"#)?.status == 409)
        let bad = try send(app, "POST", "/v1/streams", #"{"id":"x","interval_minutes":5000,"destination":{"type":"directory","path":"x"}}"#)
        #expect(bad?.status == 400)
        #expect(bad?.bodyText.contains("interval_minutes: must be an integer from 1 to 1440") == true)
        #expect(try send(app, "POST", "/v1/streams", "not json")?.status == 400)
        let patched = try #require(jsonObject(try send(app, "PATCH", "/v1/streams/api", #"{"write_empty":false,"compression":"gzip"}"#)))
        #expect(patched["write_empty"] as? Bool == false)
        #expect(patched["compression"] as? String == "gzip")
        #expect(try send(app, "PATCH", "/v1/streams/api", #"{"interval_minutes":30}"#)?.status == 409)
        #expect(jsonObject(try send(app, "POST", "/v1/streams/api/pause"))?["paused"] as? Bool == true)
        #expect(try send(app, "DELETE", "/v1/streams/configured")?.status == 204)
        #expect(try send(app, "DELETE", "/v1/streams/configured")?.status == 404)
        await app.stop()

        // Restart with the same config file and data directory: the API's changes hold.
        app = try AppTestService { $0.dataDirectory = data; $0.streams = [StreamDefinition(id: "configured", destination: .directory(path: store))] }
        let streams = try #require(jsonObject(try app.admin("/v1/streams"))?["streams"] as? [[String: Any]])
        #expect(streams.compactMap { $0["id"] as? String } == ["api"])
        #expect(streams.first?["paused"] as? Bool == true)
        #expect(streams.first?["compression"] as? String == "gzip")
        #expect(jsonObject(try send(app, "POST", "/v1/streams/api/resume"))?["paused"] as? Bool == false)
        await app.stop()
    }

    @Test(.enabled(if: S3TestTarget.runnable, "needs the S3 servers of `make test`"))
    func wrongSecretShowsTheStoresErrorAndAPatchDelivers() async throws {
        let target = try S3TestTarget.require("moto path-style")
        let (moto, key, secret, bucket) = (target.endpoint, target.accessKeyID, target.secretAccessKey, target.bucket)
        let t0 = ISO8601Milliseconds.parse("2022-09-04T10:00:05.000Z") ?? 0
        let clock = ManualWallClock(t0)
        let app = try AppTestService(wallClock: clock) { $0.graceSeconds = 1 }
        let prefix = "admin=\(UUID().uuidString.lowercased())/"
        let create = """
        {"id":"s3","interval_minutes":1,"destination":{"type":"s3","endpoint":"\(moto)","region":"us-east-1","bucket":"\(bucket)",
         "prefix":"\(prefix)","access_key_id":"\(key)","secret_access_key":"wrong-secret","path_style":true}}
        """
        // The destination is tried first: the store's refusal comes back at once, nothing saved.
        let refused = try #require(try send(app, "POST", "/v1/streams", create))
        #expect(refused.status == 424)
        #expect(refused.bodyText.contains("destination_check_failed"))
        #expect(refused.bodyText.contains("SignatureDoesNotMatch"))
        #expect(!refused.bodyText.contains("wrong-secret"))
        #expect(app.service.streams.status(of: "s3") == nil)
        // ?check=false saves it anyway (the store is down for now): deliveries show the error.
        let created = try #require(try send(app, "POST", "/v1/streams?check=false", create))
        #expect(created.status == 201)
        #expect(!created.bodyText.contains("wrong-secret"))
        #expect(created.bodyText.contains("\"secret_access_key\":\"***\""))
        let body = "{\"samples\":[{\"seq\":1,\"ts\":\(Int(t0)),\"pc\":\"a\",\"stats\":[]}],\"events\":[{\"ts\":\(Int(t0) + 1000),\"type\":\"leave\"}]}"
        #expect(try app.ingest(room: "r1", peer: "p", json: body)?.status == 202)
        let record = try #require(try app.admin("/v1/rooms/r1")).bodyText.replacingOccurrences(of: ",\"state\":\"ended\"", with: "")
        clock.advance(to: t0 + 90_000)
        #expect(await eventually { app.service.streams.status(of: "s3")?.files.first?.state == .retrying })
        let failing = try #require(jsonObject(try app.admin("/v1/streams/s3")))
        #expect((failing["last_error"] as? String)?.contains("SignatureDoesNotMatch") == true)
        #expect((failing["files_by_state"] as? [String: Any])?["retrying"] as? Int == 1)

        #expect(try send(app, "PATCH", "/v1/streams/s3", #"{"destination":{"secret_access_key":"\#(secret)"}}"#)?.status == 200)
        #expect(await eventually { app.service.streams.status(of: "s3")?.files.first?.state == .uploaded })
        let file = try #require(app.service.streams.status(of: "s3")?.files.first)
        #expect(file.key.contains("/dt=2022-09-04/"))
        // Read back with boto3, as a BI tool would (botocore encodes '=' as %3D, as we do).
        let script = "import boto3,sys; s3=boto3.client('s3',endpoint_url='\(moto)',region_name='us-east-1',aws_access_key_id='\(key)',aws_secret_access_key='\(secret)'); sys.stdout.write(s3.get_object(Bucket='\(bucket)',Key='\(file.key)')['Body'].read().decode())"
        let python = try ChildProcess("/usr/bin/env", ["python3", "-c", script])
        #expect(python.wait() == 0, "\(python.stderr)")
        #expect(python.stdout == "[\n\(record)\n]\n")
        await app.stop()
    }

    @Test func anUnsetSecretVariableOrAnUnwritableDirectoryIsRefusedAtOnce() async throws {
        let app = try AppTestService()
        let unset = "ROOMSTREAM_TEST_UNSET_\(UUID().uuidString.prefix(8))"
        let s3 = """
        {"id":"env","interval_minutes":60,"destination":{"type":"s3","endpoint":"http://127.0.0.1:9","region":"us-east-1","bucket":"bkt",
         "access_key_id":"AK","secret_access_key_env":"\(unset)"}}
        """
        // Even unchecked: a secret that cannot be found is a mistake in the request.
        for target in ["/v1/streams", "/v1/streams?check=false"] {
            let refused = try #require(try send(app, "POST", target, s3))
            #expect(refused.status == 400)
            #expect(refused.bodyText.contains("destination.secret_access_key_env: \(unset) is not set in the environment"))
        }
        #expect(try send(app, "POST", "/v1/streams?check=maybe", s3)?.status == 400)
        // A directory under a regular file cannot be written: 424, nothing saved.
        let root = app.service.configuration.dataDirectory + "/files"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: root + "/blocker", contents: Data()))
        let directory = #"{"id":"dir","interval_minutes":60,"destination":{"type":"directory","path":"files/blocker/below"}}"#
        let unwritable = try #require(try send(app, "POST", "/v1/streams", directory))
        #expect(unwritable.status == 424)
        #expect(unwritable.bodyText.contains("destination.path"))
        #expect(app.service.streams.status(of: "dir") == nil)
        // A PATCH to a bad destination is refused the same way; the stream keeps its own.
        #expect(try send(app, "POST", "/v1/streams", #"{"id":"ok","interval_minutes":60,"destination":{"type":"directory","path":"files/ok"}}"#)?.status == 201)
        let patch = try #require(try send(app, "PATCH", "/v1/streams/ok", #"{"destination":{"path":"files/blocker/x"}}"#))
        #expect(patch.status == 424)
        #expect(app.service.streams.status(of: "ok")?.definition.destination == .directory(path: "files/ok"))
        await app.stop()
    }
}
