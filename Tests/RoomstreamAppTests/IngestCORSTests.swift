import Foundation
@testable import RoomstreamApp
import RoomstreamServer
import Testing

/// CORS on the ingest routes over real sockets (Fetch standard, "CORS protocol"): preflights,
/// the headers on every answer to a listed origin (errors and write-ahead-logged 202s
/// included), refusals of other origins, and nothing on the admin routes.
struct IngestCORSTests {
    static let app = "https://app.example.com"
    static let samplesPath = "/v1/rooms/r/peers/p/samples"
    static var post: [String: String] { ["Authorization": "Bearer \(AppTestService.ingestKey)", "Content-Type": "application/json"] }
    static var body: [UInt8] { Array(IngestRoutesTests.sample.utf8) }

    @Test func preflightFromAListedOrigin() async throws {
        let service = try AppTestService { $0.corsOrigins = [Self.app, "http://localhost:3000"] }
        let response = try #require(try service.request("OPTIONS", Self.samplesPath, headers: [
            "Origin": Self.app, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization, content-type"]))
        #expect(response.status == 204)
        #expect(response.headers["access-control-allow-origin"] == Self.app)
        #expect(response.headers["vary"] == "Origin")
        #expect(response.headers["access-control-allow-methods"] == "POST")
        #expect(response.headers["access-control-allow-headers"] == "Authorization, Content-Type, Content-Encoding")
        #expect(response.headers["access-control-max-age"] == "7200")
        // The leave route too.
        let leave = try #require(try service.request("OPTIONS", "/v1/rooms/r/peers/p/leave", headers: ["Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST"]))
        #expect(leave.headers["access-control-allow-origin"] == "http://localhost:3000")
        await service.stop()
    }

    @Test func anOriginNotListedIsRefusedAndNothingIsIngested() async throws {
        let service = try AppTestService { $0.corsOrigins = [Self.app] }
        let preflight = try #require(try service.request("OPTIONS", Self.samplesPath, headers: ["Origin": "https://evil.example", "Access-Control-Request-Method": "POST"]))
        #expect(preflight.status == 403)
        #expect(preflight.headers["access-control-allow-origin"] == nil)
        // A simple request (sendBeacon: text/plain, key in the query) makes no preflight.
        let beacon = try #require(try service.request("POST", Self.samplesPath + "?key=\(AppTestService.ingestKey)",
                                                      headers: ["Origin": "https://evil.example", "Content-Type": "text/plain"], body: Self.body))
        #expect(beacon.status == 403)
        #expect(beacon.bodyText.contains("origin_not_allowed"))
        #expect(beacon.bodyText.contains("ingest.cors_origins"))
        #expect(service.service.registry.liveRoomCount == 0)
        await service.stop()
    }

    @Test func everyAnswerToAListedOriginCarriesTheHeaders() async throws {
        let service = try AppTestService { $0.corsOrigins = [Self.app] }
        var headers = Self.post
        headers["Origin"] = Self.app
        // 202 (deferred until the write-ahead log has the record).
        let accepted = try #require(try service.request("POST", Self.samplesPath, headers: headers, body: Self.body))
        #expect(accepted.status == 202)
        #expect(accepted.headers["access-control-allow-origin"] == Self.app)
        #expect(accepted.headers["access-control-expose-headers"] == "Retry-After")
        #expect(accepted.headers["vary"] == "Origin")
        // An error the SDK must be able to read.
        headers["Authorization"] = "Bearer nope-nope-nope"
        let refused = try #require(try service.request("POST", Self.samplesPath, headers: headers, body: Self.body))
        #expect(refused.status == 401)
        #expect(refused.headers["access-control-allow-origin"] == Self.app)
        #expect(refused.headers["www-authenticate"] == "Bearer")
        await service.stop()
    }

    @Test func theDefaultAllowsAnyOriginWithAStar() async throws {
        let service = try AppTestService()
        var headers = Self.post
        headers["Origin"] = "https://anywhere.example"
        let accepted = try #require(try service.request("POST", Self.samplesPath, headers: headers, body: Self.body))
        #expect(accepted.status == 202)
        #expect(accepted.headers["access-control-allow-origin"] == "*")
        #expect(accepted.headers["vary"] == nil)
        await service.stop()
    }

    /// The server's own answers before any route (here 413 for a declared body over
    /// `max_body_bytes`, and 431) carry the CORS headers (`*`, or a listed origin the head
    /// named), so the SDK reads the status and drops the batch instead of retrying what looks
    /// like a network error forever.
    @Test func theServersOwnErrorsCarryTheCORSHeaders() async throws {
        let open = try AppTestService { $0.server.limits.maxBodyBytes = 1024 }
        let huge = "POST \(Self.samplesPath) HTTP/1.1\r\nHost: t\r\nOrigin: https://anywhere.example\r\nAuthorization: Bearer \(AppTestService.ingestKey)\r\nContent-Type: application/json\r\nContent-Length: 4096\r\n\r\n"
        let client = try open.client()
        client.send(huge)
        let tooLarge = try #require(client.readResponse())
        #expect(tooLarge.status == 413)
        #expect(tooLarge.headers["access-control-allow-origin"] == "*")
        #expect(tooLarge.headers["access-control-expose-headers"] == "Retry-After")
        await open.stop()
        // With a list of origins: a listed origin read before the error is named (the SDK on
        // that page reads the 413 and drops the batch instead of retrying it forever, which
        // would hold every later batch behind it); another origin gets nothing.
        let listed = try AppTestService { $0.corsOrigins = [Self.app, "http://localhost:3000"]; $0.server.limits.maxBodyBytes = 1024; $0.server.limits.maxHeaderBytes = 1024 }
        let page = try listed.client()
        page.send(huge.replacingOccurrences(of: "https://anywhere.example", with: Self.app))
        let named = try #require(page.readResponse())
        #expect(named.status == 413)
        #expect(named.headers["access-control-allow-origin"] == Self.app)
        #expect(named.headers["vary"] == "Origin")
        #expect(named.headers["access-control-expose-headers"] == "Retry-After")
        let other = try listed.client()
        other.send(huge)
        let refused = try #require(other.readResponse())
        #expect(refused.status == 413)
        #expect(refused.headers["access-control-allow-origin"] == nil)
        // A head cut short (431) names the origin only if its line came before the excess.
        let longField = "X-Long: " + String(repeating: "x", count: 2_000) + "\r\n"
        for (originFirst, expected) in [(true, Self.app as String?), (false, nil)] {
            let originLine = "Origin: \(Self.app)\r\n"
            let client = try listed.client()
            client.send("POST \(Self.samplesPath) HTTP/1.1\r\nHost: t\r\n" + (originFirst ? originLine + longField : longField + originLine) + "\r\n")
            let answer = try #require(client.readResponse())
            #expect(answer.status == 431)
            #expect(answer.headers["access-control-allow-origin"] == expected, "origin first: \(originFirst)")
        }
        await listed.stop()
    }

    @Test func requestsWithoutOriginAndAdminRoutesGetNoCORSHeaders() async throws {
        let service = try AppTestService { $0.corsOrigins = [Self.app] }
        let plain = try #require(try service.request("POST", Self.samplesPath, headers: Self.post, body: Self.body))
        #expect(plain.status == 202)
        #expect(plain.headers["access-control-allow-origin"] == nil)
        let options = try #require(try service.request("OPTIONS", Self.samplesPath))
        #expect(options.status == 204)
        #expect(options.headers["allow"] == "POST, OPTIONS")
        let admin = try #require(try service.request("GET", "/v1/rooms", headers: ["Authorization": "Bearer \(AppTestService.adminToken)", "Origin": Self.app]))
        #expect(admin.status == 200)
        #expect(admin.headers["access-control-allow-origin"] == nil)
        let adminPreflight = try #require(try service.request("OPTIONS", "/v1/rooms", headers: ["Origin": Self.app, "Access-Control-Request-Method": "GET"]))
        #expect(adminPreflight.headers["access-control-allow-origin"] == nil)
        await service.stop()
    }

    @Test(arguments: [
        (#"["https://app.example.com", "http://localhost:3000", "https://[::1]:8443"]"#, nil),
        (#"["*"]"#, nil),
        (#"["*", "https://a.example"]"#, "ingest.cors_origins[0]"),
        (#"["https://a.example/"]"#, "ingest.cors_origins[0]"),
        (#"["https://a.example", "HTTPS://B.example"]"#, "ingest.cors_origins[1]"),
        (#"["a.example"]"#, "ingest.cors_origins[0]"),
        (#"["ftp://a.example"]"#, "ingest.cors_origins[0]"),
        (#"["https://"]"#, "ingest.cors_origins[0]"),
        (#""*""#, "ingest.cors_origins"),
    ] as [(String, String?)])
    func originsAreValidated(_ origins: String, _ field: String?) throws {
        let json = Data(#"{"ingest": {"cors_origins": \#(origins)}}"#.utf8)
        if let field {
            #expect { _ = try RoomstreamConfiguration.parse(json) } throws: { ($0 as? ConfigurationError)?.field == field }
        } else {
            #expect(try RoomstreamConfiguration.parse(json).corsOrigins.isEmpty == false)
        }
    }
}
