import Foundation
import RoomstreamCore
import RoomstreamHTTP
import RoomstreamServer
import RoomstreamStreams

/// Stream status and files for operators and BI tools (admin token).
struct StreamRoutes: Sendable {
    let engine: StreamsEngine
    let authorization: Authorization
    let clock: any WallClock

    func register(on router: inout Router) {
        router.add(.get, "/v1/streams") { request in try self.list(request) }
        router.add(.get, "/v1/streams/{id}") { request in try self.show(request) }
        router.add(.get, "/v1/streams/{id}/files") { request in try self.files(request) }
        router.add(.get, "/v1/streams/{id}/files/{file}") { request in try self.download(request) }
        router.add(.post, "/v1/streams/{id}/files/{file}/retry") { request in try self.retry(request) }
    }

    private func status(_ request: RoutedRequest) throws(APIError) -> StreamsEngine.Status {
        try authorization.requireAdmin(request)
        guard let status = engine.status(of: request.parameter("id")) else { throw .notFound("no stream \(request.parameter("id"))") }
        return status
    }

    func list(_ request: RoutedRequest) throws(APIError) -> HTTPResponse {
        try authorization.requireAdmin(request)
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("streams")
        writer.beginArray()
        for status in engine.statuses { Self.write(status, now: clock.nowMilliseconds(), to: &writer) }
        writer.endArray()
        writer.endObject()
        return .json(.ok, writer.text)
    }

    func show(_ request: RoutedRequest) throws(APIError) -> HTTPResponse {
        let status = try status(request)
        var writer = JSONWriter()
        Self.write(status, now: clock.nowMilliseconds(), to: &writer)
        return .json(.ok, writer.text)
    }

    func files(_ request: RoutedRequest) throws(APIError) -> HTTPResponse {
        let status = try status(request)
        var files = status.files
        if let state = request.query["state"] {
            guard let wanted = SealedFile.State(rawValue: state) else {
                throw .badRequest("invalid_state", "state must be sealed, uploading, uploaded or retrying")
            }
            files = files.filter { $0.state == wanted }
        }
        for (name, keep) in [("from", { (file: SealedFile, time: Double) in Double(file.windowEnd) > time }),
                             ("to", { (file: SealedFile, time: Double) in Double(file.windowStart) < time })] {
            guard let text = request.query[name] else { continue }
            guard let time = ISO8601Milliseconds.parse(text) else {
                throw .badRequest("invalid_\(name)", "\(name) must be a UTC time like 2022-09-04T00:00:00.000Z")
            }
            files = files.filter { keep($0, time) }
        }
        // Pages in window order: `cursor` is the window start after which the next page begins.
        var limit = 100
        if let text = request.query["limit"] {
            guard let value = Int(text), (1...1000).contains(value) else { throw .badRequest("invalid_limit", "limit must be an integer from 1 to 1000") }
            limit = value
        }
        if let cursor = request.query["cursor"] {
            guard let after = Int64(cursor) else { throw .badRequest("invalid_cursor", "cursor is not one this service returned") }
            files = files.filter { $0.windowStart > after }
        }
        files.sort { ($0.windowStart, $0.stream) < ($1.windowStart, $1.stream) }
        let page = files.prefix(limit)
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("files")
        writer.beginArray()
        for file in page { Self.write(file, to: &writer) }
        writer.endArray()
        writer.key("next_cursor")
        if files.count > limit, let last = page.last { writer.string(String(last.windowStart)) } else { writer.null() }
        writer.endObject()
        return .json(.ok, writer.text)
    }

    func download(_ request: RoutedRequest) throws(APIError) -> HTTPResponse {
        try authorization.requireAdmin(request)
        guard let (path, file) = engine.spoolPath(stream: request.parameter("id"), file: request.parameter("file")),
              let data = FileManager.default.contents(atPath: path)
        else { throw .notFound("no file \(request.parameter("file")) in stream \(request.parameter("id")) (pruned after the retention period, or never sealed)") }
        let etag = "\"\(file.sha256)\""
        if request.http.headers["if-none-match"] == etag {
            return HTTPResponse(status: HTTPStatus(code: 304), headers: [HTTPHeaderField("ETag", etag)])
        }
        // A gzip file is sent as the file it is (SealedFile.contentType), named for saving.
        let headers = [HTTPHeaderField("Content-Type", SealedFile.contentType(gzip: file.gzip)), HTTPHeaderField("ETag", etag),
                       HTTPHeaderField("Content-Disposition", "attachment; filename=\"\(file.spoolName)\"")]
        return HTTPResponse(status: .ok, headers: headers, body: Array(data))
    }

    func retry(_ request: RoutedRequest) throws(APIError) -> HTTPResponse {
        _ = try status(request)
        guard engine.retryNow(stream: request.parameter("id"), file: request.parameter("file")) else {
            throw APIError(status: HTTPStatus(code: 409), code: "not_retryable", message: "the file is unknown or already uploaded")
        }
        return .json(.accepted, #"{"retry":"scheduled"}"#)
    }

    /// A stream's status: its definition in the one wire form (secrets as `***`), then the
    /// live fields, in one JSON object.
    static func write(_ status: StreamsEngine.Status, now: Double, to writer: inout JSONWriter) {
        let encoder = JSONEncoder()
        encoder.userInfo[.redactSecrets] = true
        encoder.outputFormatting = [.sortedKeys]
        // Encoding a validated definition (strings, numbers, booleans) cannot fail: ignore the
        // impossible error rather than fail a status request.
        var definition = (try? encoder.encode(status.definition)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        // The definition's object, left open for the status fields that follow.
        definition.removeLast()
        var fields = JSONWriter()
        fields.beginObject()
        fields.key("last_sealed_window")
        if let window = status.lastSealedWindow { writeWindow(window, to: &fields) } else { fields.null() }
        fields.key("next_seal_time"); fields.string(ISO8601Milliseconds.format(Double(status.nextSealTime)))
        // Two lags, reported apart: sealing (time past the due seal of the next window; 0 when
        // on time, and 0 while paused: a paused stream holds its windows on purpose) and
        // delivery (age of the oldest file not yet delivered, e.g. stuck retrying).
        // `lag_seconds` is the larger: how far behind the destination is. (`paused` is in the
        // definition above.)
        let lags = StreamLags(status, now: now)
        fields.key("seal_lag_seconds"); fields.integer(lags.sealSeconds.rounded(.down))
        fields.key("delivery_lag_seconds"); fields.integer(lags.deliverySeconds.rounded(.down))
        fields.key("lag_seconds"); fields.integer(max(lags.sealSeconds, lags.deliverySeconds).rounded(.down))
        fields.key("files_by_state")
        fields.beginObject()
        for state in [SealedFile.State.sealed, .uploading, .uploaded, .retrying] {
            fields.key(state.rawValue); fields.integer(Double(status.files.filter { $0.state == state }.count))
        }
        fields.endObject()
        // What waits to be sealed: windows past their seal time (a paused stream holds them up
        // to delivery.max_paused_hours) and rooms in the journal from the next window on.
        fields.key("backlog")
        fields.beginObject()
        fields.key("windows_due"); fields.integer(Double(status.dueWindows(now: now)))
        fields.key("rooms_pending"); fields.integer(Double(status.pendingRooms))
        fields.endObject()
        fields.key("last_error"); fields.optionalString(status.lastError)
        fields.endObject()
        writer.raw(definition + (definition.count > 1 ? "," : "") + fields.text.dropFirst())
    }

    static func writeWindow(_ window: StreamWindow, to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("start"); writer.string(ISO8601Milliseconds.format(Double(window.start)))
        writer.key("end"); writer.string(ISO8601Milliseconds.format(Double(window.end)))
        writer.endObject()
    }

    static func write(_ file: SealedFile, to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("file"); writer.string(file.spoolName)
        writer.key("stream"); writer.string(file.stream)
        writer.key("window"); writeWindow(file.window, to: &writer)
        writer.key("key"); writer.string(file.key)
        writer.key("rooms"); writer.integer(Double(file.rooms))
        writer.key("bytes"); writer.integer(Double(file.bytes))
        writer.key("sha256"); writer.string(file.sha256)
        writer.key("state"); writer.string(file.state.rawValue)
        writer.key("attempts"); writer.integer(Double(file.attempts))
        writer.key("last_error"); writer.optionalString(file.lastError)
        writer.key("sealed_at"); writer.string(ISO8601Milliseconds.format(file.sealedAt))
        writer.key("uploaded_at"); writer.optionalString(file.uploadedAt.map(ISO8601Milliseconds.format))
        writer.endObject()
    }
}

/// The stream admin API: create, change, delete, pause and resume (persisted by the engine).
struct StreamAdminRoutes: Sendable {
    let engine: StreamsEngine
    let authorization: Authorization
    let clock: any WallClock

    func register(on router: inout Router) {
        router.add(.post, "/v1/streams") { request in try self.create(request) }
        router.add(.patch, "/v1/streams/{id}") { request in try self.patch(request) }
        router.add(.delete, "/v1/streams/{id}") { request in try self.delete(request) }
        router.add(.post, "/v1/streams/{id}/pause") { request in try self.setPaused(request, true) }
        router.add(.post, "/v1/streams/{id}/resume") { request in try self.setPaused(request, false) }
        router.add(.post, "/v1/streams/{id}/seal") { request in try self.sealNow(request) }
    }

    static func apiError(_ error: StreamsEngine.AdminError) -> APIError {
        switch error {
        case .exists(let id): APIError(status: HTTPStatus(code: 409), code: "stream_exists", message: "a stream \(id) exists")
        case .notFound(let id): .notFound("no stream \(id)")
        case .invalid(let problem): .badRequest("invalid_field", "\(problem.field): \(problem.problem)")
        case .intervalChange:
            APIError(status: HTTPStatus(code: 409), code: "interval_immutable", message: "interval_minutes cannot change: sealed windows would not line up; create a new stream")
        case .persistence(let detail): APIError(status: .internalServerError, code: "persistence_failed", message: "the change could not be saved: \(detail)")
        case .destination(let failure) where failure.kind == .definition: .badRequest("invalid_field", failure.description)
        case .destination(let failure):
            // RFC 4918 §11.4: the request failed because another action (the store) failed.
            APIError(status: HTTPStatus(code: 424), code: "destination_check_failed",
                     message: "\(failure.description) (nothing was changed; fix the destination, or add ?check=false to save it unchecked)")
        case .changedMeanwhile(let id):
            APIError(status: HTTPStatus(code: 409), code: "changed_meanwhile", message: "stream \(id) changed while this change was being checked; retry")
        case .cannotSealNow(let reason): APIError(status: HTTPStatus(code: 409), code: "cannot_seal_now", message: reason)
        }
    }

    /// `?check=false` saves a destination without trying it (the store is down for now).
    static func wantsCheck(_ request: RoutedRequest) throws(APIError) -> Bool {
        switch request.query["check"] {
        case nil, "true": return true
        case "false": return false
        case let other?: throw .badRequest("invalid_query", "check must be true or false, got '\(other)'")
        }
    }

    /// Creating or changing a stream may try its destination (seconds, on the network): the
    /// work runs on the admin queue, never on an event loop, and the answer is deferred.
    static let queue = DispatchQueue(label: "roomstream.streams.admin")

    static func offLoop(_ work: @escaping @Sendable () throws(APIError) -> HTTPResponse) -> HTTPResponse {
        .deferred { completion in
            queue.async {
                do throws(APIError) { completion(try work()) } catch { completion(error.response) }
            }
        }
    }

    private func body(_ request: RoutedRequest) throws(APIError) -> [String: Any] {
        // The parse error's detail is replaced by the 400 below (ignore it: the answer names the problem).
        guard let object = (try? JSONSerialization.jsonObject(with: Data(request.http.body))) as? [String: Any] else {  // ignore: see above
            throw .badRequest("malformed_json", "the body must be a JSON object")
        }
        return object
    }

    private func show(_ id: String, status: HTTPStatus) -> HTTPResponse {
        var writer = JSONWriter()
        if let current = engine.status(of: id) { StreamRoutes.write(current, now: clock.nowMilliseconds(), to: &writer) }
        return .json(status, writer.text)
    }

    func create(_ request: RoutedRequest) throws(APIError) -> HTTPResponse {
        try authorization.requireAdmin(request)
        _ = try body(request)  // a JSON object, else 400 malformed_json
        let definition: StreamDefinition
        do {
            definition = try StreamDefinition.decode(json: Data(request.http.body))
        } catch {
            throw .badRequest("invalid_field", error.description)
        }
        let check = try Self.wantsCheck(request)
        return Self.offLoop { [engine, clock] () throws(APIError) -> HTTPResponse in
            do throws(StreamsEngine.AdminError) { try engine.create(definition, now: clock.nowMilliseconds(), check: check) } catch { throw Self.apiError(error) }
            return self.show(definition.id, status: HTTPStatus(code: 201))
        }
    }

    /// Merges the body over the stream's current definition (the destination field by field).
    func patch(_ request: RoutedRequest) throws(APIError) -> HTTPResponse {
        try authorization.requireAdmin(request)
        let id = request.parameter("id")
        guard let current = engine.status(of: id)?.definition else { throw .notFound("no stream \(id)") }
        var merged = current.jsonObject
        let changes = try body(request)
        for (key, value) in changes {
            if key == "destination", var destination = value as? [String: Any], var base = merged["destination"] as? [String: Any] {
                // "***" is what answers show for the secret: sent back, it keeps the current one.
                if destination["secret_access_key"] as? String == "***" { destination["secret_access_key"] = nil }
                if let type = destination["type"] as? String, type != base["type"] as? String { base = [:] }
                // A new secret replaces the old one, whichever form each takes.
                if destination["secret_access_key"] != nil || destination["secret_access_key_env"] != nil {
                    base["secret_access_key"] = nil
                    base["secret_access_key_env"] = nil
                }
                base.merge(destination) { $1 }
                merged["destination"] = base
            } else {
                merged[key] = value
            }
        }
        if let newID = changes["id"] as? String, newID != id { throw .badRequest("invalid_field", "id cannot change") }
        let definition: StreamDefinition
        do {
            definition = try StreamDefinition.decode(json: try JSONSerialization.data(withJSONObject: merged))
        } catch let error as StreamDefinitionError {
            throw .badRequest("invalid_field", error.description)
        } catch {
            throw .badRequest("malformed_json", "the body must be a JSON object")
        }
        let check = try Self.wantsCheck(request)
        return Self.offLoop { [engine] () throws(APIError) -> HTTPResponse in
            do throws(StreamsEngine.AdminError) { try engine.update(id, check: check) { $0 = definition } } catch { throw Self.apiError(error) }
            return self.show(id, status: .ok)
        }
    }

    func delete(_ request: RoutedRequest) throws(APIError) -> HTTPResponse {
        try authorization.requireAdmin(request)
        do { try engine.delete(request.parameter("id")) } catch { throw Self.apiError(error) }
        return HTTPResponse(status: .noContent)
    }

    /// Seals the current window early (a new user sees a file in seconds, not an hour): 202
    /// with the window being sealed; its file appears at the next tick (within a second).
    func sealNow(_ request: RoutedRequest) throws(APIError) -> HTTPResponse {
        try authorization.requireAdmin(request)
        let windows: (sealing: StreamWindow, next: StreamWindow)
        do { windows = try engine.sealNow(request.parameter("id"), now: clock.nowMilliseconds()) } catch { throw Self.apiError(error) }
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("sealing"); StreamRoutes.writeWindow(windows.sealing, to: &writer)
        writer.key("next_window"); StreamRoutes.writeWindow(windows.next, to: &writer)
        writer.endObject()
        return .json(.accepted, writer.text)
    }

    func setPaused(_ request: RoutedRequest, _ paused: Bool) throws(APIError) -> HTTPResponse {
        try authorization.requireAdmin(request)
        do { try engine.update(request.parameter("id")) { $0.paused = paused } } catch { throw Self.apiError(error) }
        return show(request.parameter("id"), status: .ok)
    }
}

