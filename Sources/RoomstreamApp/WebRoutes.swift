import RoomstreamHTTP
import RoomstreamServer
import RoomstreamStreams

/// The browser SDK (`GET /sdk/roomstream.js`, and `.mjs` as an ES module) and the operator page
/// (`GET /`, its script and style under `/ui/`), embedded in the binary (WebAssets.swift).
struct WebRoutes: Sendable {
    struct Asset: Sendable {
        let body: [UInt8]
        let contentType: String
        let etag: String
        let headers: [HTTPHeaderField]

        init(_ text: String, contentType: String, headers: [HTTPHeaderField]) {
            body = Array(text.utf8)
            self.contentType = contentType
            // A strong validator: the content's digest (RFC 9110 §8.8.3).
            etag = "\"" + TextFormat.hex(Digest.sha256(body)).prefix(32) + "\""
            self.headers = headers
        }

        func response(_ request: RoutedRequest) -> HTTPResponse {
            var headers = [HTTPHeaderField("ETag", etag)] + self.headers
            if let match = request.http.headers["if-none-match"], match.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == etag || $0.trimmingCharacters(in: .whitespaces) == "*" }) {
                return HTTPResponse(status: HTTPStatus(code: 304), headers: headers)
            }
            headers.append(HTTPHeaderField("Content-Type", contentType))
            return HTTPResponse(status: .ok, headers: headers, body: body)
        }
    }

    /// The SDK may be cached for an hour and revalidated with its ETag; any page may load it
    /// (an ES module import across origins needs CORS).
    static let sdkHeaders = [HTTPHeaderField("Cache-Control", "public, max-age=3600"), HTTPHeaderField("Access-Control-Allow-Origin", "*")]
    /// The page runs only its own script and style, talks only to this origin, in no frame.
    static let pageHeaders = [
        HTTPHeaderField("Cache-Control", "no-cache"),
        HTTPHeaderField("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' blob: data:; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"),
        HTTPHeaderField("X-Content-Type-Options", "nosniff"),
        HTTPHeaderField("Referrer-Policy", "no-referrer"),
    ]

    static let sdk = Asset(WebAssets.sdk, contentType: "text/javascript; charset=utf-8", headers: sdkHeaders)
    /// The same file as an ES module: `import roomstream from ".../sdk/roomstream.mjs"`.
    static let sdkModule = Asset(WebAssets.sdk + "export default globalThis.roomstream;\n", contentType: "text/javascript; charset=utf-8", headers: sdkHeaders)
    static let page = Asset(WebAssets.operatorHTML, contentType: "text/html; charset=utf-8", headers: pageHeaders)
    static let pageScript = Asset(WebAssets.operatorJS, contentType: "text/javascript; charset=utf-8", headers: pageHeaders)
    static let pageStyle = Asset(WebAssets.operatorCSS, contentType: "text/css; charset=utf-8", headers: pageHeaders)

    func register(on router: inout Router) {
        for (path, asset) in [("/sdk/roomstream.js", Self.sdk), ("/sdk/roomstream.mjs", Self.sdkModule), ("/", Self.page),
                              ("/ui/operator.js", Self.pageScript), ("/ui/operator.css", Self.pageStyle)] {
            router.add(.get, path) { request in asset.response(request) }
        }
    }
}
