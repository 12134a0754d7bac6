import Foundation
import RoomstreamCore
import RoomstreamHTTP
import RoomstreamServer
import RoomstreamStreams

/// `GET /v1/rooms` and `GET /v1/rooms/{room_id}`: room records plus `state`, admin token only.
struct RoomRoutes: Sendable {
    let registry: RoomRegistry
    let authorization: Authorization
    let publicURL: String
    /// Where records of rooms that left memory are found (their sealed files), if anywhere.
    var streams: StreamsEngine?

    /// File searches read the spool: never on an event loop.
    static let fileQueue = DispatchQueue(label: "roomstream.rooms.files")

    static let defaultLimit = 100
    static let maxLimit = 1000

    func register(on router: inout Router) {
        router.add(.get, "/v1/rooms") { request in try self.list(request) }
        router.add(.get, "/v1/rooms/{room_id}") { request in try self.show(request) }
    }

    func show(_ request: RoutedRequest) throws(APIError) -> HTTPResponse {
        try authorization.requireAdmin(request)
        let roomID = try IngestRoutes.validID(request.parameter("room_id"), field: "room_id")
        var start: Double?
        if let text = request.query["start"] {
            guard let parsed = ISO8601Milliseconds.parse(text) else {
                throw .badRequest("invalid_start", "start must be a UTC time like 2022-09-04T00:09:22.885Z")
            }
            start = parsed
        }
        let missing = APIError.notFound(start == nil ? "no room \(roomID)" : "no room \(roomID) started at \(request.query["start"] ?? "")")
        if let room = registry.room(id: roomID, start: start) {
            return .json(.ok, RoomRecord.json(room, publicURL: publicURL, includeState: true))
        }
        // Gone from memory (every stream sealed it): its record as filed, while a file holds it.
        guard let streams else { throw missing }
        let startText = start.map(ISO8601Milliseconds.format)
        return .deferred { completion in
            Self.fileQueue.async {
                guard let record = SealedRoomFinder.find(roomID: roomID, start: startText, in: streams.retainedFiles()) else {
                    completion(missing.response)
                    return
                }
                completion(HTTPResponse(status: .ok, headers: [HTTPHeaderField("Content-Type", "application/json")], body: Self.withEndedState(record)))
            }
        }
    }

    /// A filed record with `"state":"ended"` where the query API puts it (after `users`), so
    /// answers have one shape whether the room is in memory or only in a file.
    static func withEndedState(_ record: [UInt8]) -> [UInt8] {
        let marker = Array(",\"stats\":".utf8)
        guard let range = record.firstRange(of: marker) else { return record }
        return Array(record[..<range.lowerBound]) + Array(",\"state\":\"ended\"".utf8) + Array(record[range.lowerBound...])
    }

    /// Ordered by start time, then instance; `cursor` continues after the last room of the previous page.
    func list(_ request: RoutedRequest) throws(APIError) -> HTTPResponse {
        try authorization.requireAdmin(request)
        let state = request.query["state"] ?? "live"
        guard state == "live" || state == "ended" else { throw .badRequest("invalid_state", "state must be live or ended") }
        var limit = Self.defaultLimit
        if let text = request.query["limit"] {
            guard let value = Int(text), (1...Self.maxLimit).contains(value) else {
                throw .badRequest("invalid_limit", "limit must be an integer from 1 to \(Self.maxLimit)")
            }
            limit = value
        }
        var after: (start: Double, instance: Int)?
        if let cursor = request.query["cursor"] {
            guard let decoded = Self.decodeCursor(cursor) else { throw .badRequest("invalid_cursor", "cursor is not one this service returned") }
            after = decoded
        }
        let rooms = (state == "live" ? registry.liveRooms : registry.endedRooms)
            .map { (room: $0, key: ($0.startTime ?? 0, $0.instance)) }
            .filter { entry in after.map { entry.key > $0 } ?? true }
            .sorted { $0.key < $1.key }
        let page = rooms.prefix(limit)
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("rooms")
        writer.beginArray()
        for entry in page { RoomRecord.write(entry.room, publicURL: publicURL, includeState: true, to: &writer) }
        writer.endArray()
        writer.key("next_cursor")
        if rooms.count > limit, let last = page.last { writer.string(Self.encodeCursor(last.key)) } else { writer.null() }
        writer.endObject()
        return .json(.ok, writer.text)
    }

    static func encodeCursor(_ key: (Double, Int)) -> String {
        // The exact bits of the start time: a rounded one could sort before its own room.
        Data("\(key.0.bitPattern):\(key.1)".utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    static func decodeCursor(_ cursor: String) -> (start: Double, instance: Int)? {
        var base64 = cursor.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64), let text = String(data: data, encoding: .utf8) else { return nil }
        let parts = text.split(separator: ":")
        guard parts.count == 2, let bits = UInt64(parts[0]), let instance = Int(parts[1]) else { return nil }
        return (Double(bitPattern: bits), instance)
    }
}
