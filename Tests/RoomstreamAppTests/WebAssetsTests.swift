import Foundation
@testable import RoomstreamApp
import Testing
import TestSupport

/// The SDK and the operator page as the service serves them: the embedded copies match the
/// files (scripts/embed-web-assets.py), caching headers, ETag revalidation, CORS on the SDK, a
/// strict CSP on the page, and the SDK's size budget (docs/sdk.md).
struct WebAssetsTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized

    @Test(arguments: [("sdk/js/roomstream.js", WebAssets.sdk), ("web/operator.html", WebAssets.operatorHTML),
                      ("web/operator.js", WebAssets.operatorJS), ("web/operator.css", WebAssets.operatorCSS)])
    func theEmbeddedCopyIsTheFile(path: String, embedded: String) throws {
        let file = try String(contentsOf: Self.root.appendingPathComponent(path), encoding: .utf8)
        #expect(file == embedded, "run scripts/embed-web-assets.py after changing \(path)")
    }

    @Test func theSDKIsServedCacheableWithCORSAndRevalidates() async throws {
        let service = try AppTestService()
        let script = try #require(try service.request("GET", "/sdk/roomstream.js"))
        #expect(script.status == 200)
        #expect(script.headers["content-type"] == "text/javascript; charset=utf-8")
        #expect(script.headers["cache-control"] == "public, max-age=3600")
        #expect(script.headers["access-control-allow-origin"] == "*")
        #expect(script.bodyText == WebAssets.sdk)
        let etag = try #require(script.headers["etag"])
        let revalidated = try #require(try service.request("GET", "/sdk/roomstream.js", headers: ["If-None-Match": etag]))
        #expect(revalidated.status == 304)
        #expect(revalidated.body.isEmpty)
        let module = try #require(try service.request("GET", "/sdk/roomstream.mjs"))
        #expect(module.bodyText.hasSuffix("export default globalThis.roomstream;\n"))
        #expect(module.headers["etag"] != etag)
        await service.stop()
    }

    @Test func theOperatorPageNeedsNoTokenToLoadButItsDataDoes() async throws {
        let service = try AppTestService()
        let page = try #require(try service.request("GET", "/"))
        #expect(page.status == 200)
        #expect(page.headers["content-type"] == "text/html; charset=utf-8")
        #expect(page.headers["content-security-policy"]?.contains("script-src 'self'") == true)
        #expect(page.bodyText.contains("/ui/operator.js"))
        #expect(try service.request("GET", "/ui/operator.css")?.headers["content-type"] == "text/css; charset=utf-8")
        #expect(try service.request("GET", "/v1/streams")?.status == 401)
        await service.stop()
    }

    /// docs/sdk.md: under 10 KB minified-equivalent. Measured with rjsmin (PyPI), a real
    /// JavaScript minifier, when present; otherwise comments and indentation are stripped.
    @Test func theSDKStaysWithinItsSizeBudget() async throws {
        // ChildProcess, not Foundation's Process: the latter misbehaves under AddressSanitizer.
        let python = try ChildProcess("/usr/bin/env", ["python3", "-c", "import rjsmin,sys; sys.stdout.write(str(len(rjsmin.jsmin(open(sys.argv[1]).read()))))",
                                                       Self.root.appendingPathComponent("sdk/js/roomstream.js").path])
        var minified = await python.exited() == 0 ? Int(python.stdout) ?? 0 : 0
        if minified == 0 {
            minified = WebAssets.sdk.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.hasPrefix("//") && !$0.hasPrefix("/*") && !$0.hasPrefix("*") }.joined(separator: "\n").utf8.count
        }
        #expect(minified > 0 && minified < 10 * 1024, "\(minified) bytes minified")
    }
}
