import Foundation
@testable import RoomstreamApp
import RoomstreamHTTP
import RoomstreamServer
import RoomstreamStreams
import Testing

/// The router against docs/openapi.yaml (every route documented, nothing documented that is
/// not routed), and every route under every credential (the auth matrix), over sockets.
struct APIContractTests {
    static let specPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../docs/openapi.yaml").standardized.path

    /// (method, path) of every operation in the spec: paths at two spaces under `paths:`,
    /// methods at four (the file's own layout; a YAML library is not needed for this).
    static func documentedOperations() throws -> Set<String> {
        let text = try String(contentsOfFile: specPath, encoding: .utf8)
        var operations: Set<String> = []
        var inPaths = false
        var path: String?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line == "paths:" { inPaths = true; continue }
            if inPaths, let first = line.first, first != " " { break }
            guard inPaths else { continue }
            if line.hasPrefix("  /"), line.hasSuffix(":"), !line.hasPrefix("   ") { path = String(line.dropFirst(2).dropLast()); continue }
            for method in ["get", "post", "put", "patch", "delete", "head", "options"] where line == "    \(method):" {
                if let path { operations.insert("\(method.uppercased()) \(path)") }
            }
        }
        return operations
    }

    static func routedOperations(_ service: AppTestService) -> Set<String> {
        let router = Routes.make(readiness: Readiness(), registry: service.service.registry, streams: service.service.streams,
                                 metrics: ServiceMetrics()) { _, _ in }
        // OPTIONS routes are the CORS preflights (documented under the ingest paths' `options`).
        return Set(router.routeList.map { "\($0.method.rawValue) \($0.pattern)" })
    }

    @Test func everyRouteIsDocumentedAndEveryDocumentedOperationIsRouted() async throws {
        let service = try AppTestService()
        let routed = Self.routedOperations(service)
        let documented = try Self.documentedOperations()
        #expect(routed.subtracting(documented).sorted() == [], "routes missing from docs/openapi.yaml")
        #expect(documented.subtracting(routed).sorted() == [], "operations in docs/openapi.yaml that no route serves")
        #expect(routed.count >= 20)
        await service.stop()
    }

    enum Credential: String, CaseIterable {
        case none, ingestKey, adminToken, wrongToken
        var header: [String: String] {
            switch self {
            case .none: [:]
            case .ingestKey: ["Authorization": "Bearer \(AppTestService.ingestKey)"]
            case .adminToken: ["Authorization": "Bearer \(AppTestService.adminToken)"]
            case .wrongToken: ["Authorization": "Bearer not-a-token-000000000"]
            }
        }
    }

    enum Access { case open, ingest, admin }

    static func access(_ method: String, _ pattern: String) -> Access {
        if ["/healthz", "/readyz", "/v1/version", "/", "/sdk/roomstream.js", "/sdk/roomstream.mjs", "/ui/operator.js", "/ui/operator.css"].contains(pattern)
            || method == "OPTIONS" { return .open }
        if pattern.hasSuffix("/samples") || pattern.hasSuffix("/leave") { return .ingest }
        return .admin
    }

    @Test func authMatrix() async throws {
        let store = NSTemporaryDirectory() + "roomstream-matrix-\(UUID().uuidString)"
        let service = try AppTestService {
            $0.streams = [StreamDefinition(id: "s", intervalMinutes: 60, destination: .directory(path: store))]
            $0.apiDirectoryRoot = store
        }
        let body: [String: String] = [
            "/v1/rooms/{room_id}/peers/{peer_id}/samples": IngestRoutesTests.sample,
            "/v1/streams": #"{"id":"new","interval_minutes":60,"destination":{"type":"directory","path":"\#(store)/new"}}"#,
            "/v1/streams/{id}": #"{"write_empty":false}"#,
        ]
        // DELETE last: it removes the stream the other routes use. The ~100 blocking requests run
        // on a thread of their own, not on the test pool (whose threads every other test's timers need).
        let routes = Self.routedOperations(service).sorted { ($0.hasPrefix("DELETE") ? 1 : 0, $0) < ($1.hasPrefix("DELETE") ? 1 : 0, $1) }
        let rows: [String] = try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result { () throws -> [String] in
                    var rows: [String] = []
                    for operation in routes {
                        let parts = operation.split(separator: " ", maxSplits: 1).map(String.init)
                        let (method, pattern) = (parts[0], parts[1])
                        let target = pattern.replacingOccurrences(of: "{room_id}", with: "r").replacingOccurrences(of: "{peer_id}", with: "p")
                            .replacingOccurrences(of: "{id}", with: "s").replacingOccurrences(of: "{file}", with: "nofile")
                        for credential in Credential.allCases {
                            var headers = credential.header
                            headers["Content-Type"] = "application/json"
                            guard let status = try service.request(method, target, headers: headers, body: Array((body[pattern] ?? "").utf8))?.status else {
                                rows.append("\(operation) with \(credential.rawValue): no answer")
                                continue
                            }
                            let ok: Bool
                            switch (Self.access(method, pattern), credential) {
                            case (.open, _): ok = status != 401 && status != 403
                            case (.ingest, .ingestKey): ok = status == 202
                            case (.ingest, _): ok = status == 401
                            case (.admin, .adminToken): ok = status != 401 && status != 403
                            case (.admin, .ingestKey): ok = status == 403
                            case (.admin, _): ok = status == 401
                            }
                            if !ok { rows.append("\(operation) with \(credential.rawValue): \(status)") }
                        }
                    }
                    return rows
                })
            }
        }
        #expect(rows == [], "unexpected answers")
        await service.stop()
    }
}
