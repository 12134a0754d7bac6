import Foundation
import RoomstreamStreams

extension RoomstreamConfiguration {
    /// `streams`: an array of stream definitions (docs/data-streams.md).
    static func parseStreams(_ value: Any, into config: inout RoomstreamConfiguration) throws(ConfigurationError) {
        guard let items = value as? [Any] else { throw ConfigurationError(field: "streams", problem: "must be an array of stream objects") }
        var ids: Set<String> = []
        for (index, item) in items.enumerated() {
            let path = "streams[\(index)]"
            let definition = try parseStreamDefinition(item, path: path)
            let id = definition.id
            guard ids.insert(id).inserted else { throw ConfigurationError(field: "\(path).id", problem: "\"\(id)\" is used by another stream") }
            config.streams.append(definition)
        }
    }
}

extension RoomstreamConfiguration {
    /// One stream object (config file or admin API body); `path` prefixes field names in errors.
    public static func parseStreamDefinition(_ item: Any, path: String) throws(ConfigurationError) -> StreamDefinition {
        let prefix = path.isEmpty ? "" : path + "."
        let object = try ConfigObject(item, path: path)
        try object.only(["id", "interval_minutes", "compression", "write_empty", "key_template", "destination", "paused"])
        guard let id = try object.string("id") else { throw ConfigurationError(field: "\(prefix)id", problem: "is required") }
        var definition = StreamDefinition(id: id, destination: .directory(path: ""))
        if let minutes = try object.integer("interval_minutes", in: 1...1440) { definition.intervalMinutes = minutes }
        if let compression = try object.string("compression") {
            guard let value = StreamCompression(rawValue: compression) else {
                throw ConfigurationError(field: "\(prefix)compression", problem: "must be none or gzip, got \"\(compression)\"")
            }
            definition.compression = value
        }
        if let writeEmpty = try object.bool("write_empty") { definition.writeEmpty = writeEmpty }
        if let paused = try object.bool("paused") { definition.paused = paused }
        if let template = try object.string("key_template") { definition.keyTemplate = template }
        guard let destination = try object.object("destination") else {
            throw ConfigurationError(field: "\(prefix)destination", problem: "is required")
        }
        switch try destination.string("type") {
        case "directory":
            try destination.only(["type", "path"])
            definition.destination = .directory(path: try destination.string("path") ?? "")
        case "s3":
            try destination.only(["type", "endpoint", "region", "bucket", "prefix", "access_key_id", "secret_access_key", "secret_access_key_env", "path_style"])
            definition.destination = .s3(S3Destination(
                endpoint: try destination.string("endpoint") ?? "", region: try destination.string("region") ?? "",
                bucket: try destination.string("bucket") ?? "", prefix: try destination.string("prefix") ?? "",
                accessKeyID: try destination.string("access_key_id") ?? "",
                secretAccessKey: try destination.string("secret_access_key"),
                secretAccessKeyEnv: try destination.string("secret_access_key_env"),
                pathStyle: try destination.bool("path_style") ?? false))
        default:
            throw ConfigurationError(field: "\(prefix)destination.type", problem: "must be directory or s3")
        }
        do {
            try definition.validate()
        } catch {
            throw ConfigurationError(field: "\(prefix)\(error.field)", problem: error.problem)
        }
        return definition
    }
}

extension ConfigObject {
    func bool(_ key: String) throws(ConfigurationError) -> Bool? {
        guard let value = values[key] else { return nil }
        guard isJSONBoolean(value), let bool = value as? Bool else {
            throw ConfigurationError(field: field(key), problem: "must be true or false")
        }
        return bool
    }
}
