import Foundation

/// Streams created or changed through the admin API, and configured streams it deleted,
/// persisted in `data/streams/definitions.json` (mode 0600: it holds S3 secrets) so API
/// changes survive restarts. Applied over the config file's streams at start. Definitions are
/// stored in their one wire form (`StreamDefinition: Codable`), validated when loaded: a stored
/// definition that does not validate stops the start, naming the file and the field.
public struct StreamOverrides: DurableJSONDocument, Equatable {
    public var streams: [StreamDefinition] = []
    public var deleted: [String] = []

    public init() {}

    enum CodingKeys: String, CodingKey { case streams, deleted }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        deleted = try container.decodeIfPresent([String].self, forKey: .deleted) ?? []
        guard container.contains(.streams) else { return }
        var items = try container.nestedUnkeyedContainer(forKey: .streams)
        while !items.isAtEnd {
            let index = items.currentIndex
            do {
                streams.append(try items.decode(StreamDefinition.self))
            } catch let error as StreamDefinitionError {
                throw StreamDefinitionError(field: "streams[\(index)].\(error.field)", problem: error.problem)
            }
        }
    }

    /// Loads the file (nil when absent). A definition in the layout of versions before the
    /// single wire type (flat, `destination_type`) is read as well and rewritten at the next save.
    public static func load(from path: String) throws(StreamError) -> StreamOverrides? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        do {
            var object = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
            if let streams = object["streams"] as? [[String: Any]] { object["streams"] = streams.map(Self.migratedLegacy) }
            return try JSONDecoder().decode(StreamOverrides.self, from: JSONSerialization.data(withJSONObject: object))
        } catch let error as StreamDefinitionError {
            throw .invalidStoredDefinition(path: path, field: error.field, problem: error.problem)
        } catch {
            throw .invalidStoredDefinition(path: path, field: "", problem: "\(error)")
        }
    }

    /// `{"destination_type":"s3","endpoint":…}` → `{"destination":{"type":"s3","endpoint":…}}`.
    static func migratedLegacy(_ stream: [String: Any]) -> [String: Any] {
        guard let type = stream["destination_type"] else { return stream }
        let destinationKeys = type as? String == "s3" ? StreamDestination.s3Keys : StreamDestination.directoryKeys
        var definition: [String: Any] = [:]
        var destination: [String: Any] = ["type": type]
        for (key, value) in stream where key != "destination_type" && !(value is NSNull) {
            if destinationKeys.contains(key) { destination[key] = value } else { definition[key] = value }
        }
        definition["destination"] = destination
        return definition
    }

    public func apply(to configured: [StreamDefinition]) -> [StreamDefinition] {
        var result = configured.filter { definition in !deleted.contains(definition.id) }
        for definition in streams {
            if let index = result.firstIndex(where: { $0.id == definition.id }) { result[index] = definition } else { result.append(definition) }
        }
        return result
    }
}
