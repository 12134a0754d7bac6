import Foundation
import RoomstreamStreams

extension RoomstreamConfiguration {
    /// `streams`: an array of stream definitions (docs/data-streams.md), each decoded by the
    /// one wire type `StreamDefinition`, which validates it and names the bad field.
    /// Each stream on its own: a problem in one does not hide the next one's.
    static func parseStreams(_ value: Any, into config: inout RoomstreamConfiguration, problems: inout [ConfigurationError]) throws(ConfigurationError) {
        guard let items = value as? [Any] else { throw ConfigurationError(field: "streams", problem: "must be an array of stream objects") }
        var ids: Set<String> = []
        for (index, item) in items.enumerated() {
            let path = "streams[\(index)]"
            do throws(ConfigurationError) {
                let definition = try parseStreamDefinition(item, path: path)
                let id = definition.id
                guard ids.insert(id).inserted else { throw ConfigurationError(field: "\(path).id", problem: "\"\(id)\" is used by another stream") }
                config.streams.append(definition)
            } catch {
                problems.append(error)
            }
        }
    }

    /// One stream object as JSONSerialization gave it; `path` prefixes field names in errors.
    public static func parseStreamDefinition(_ item: Any, path: String) throws(ConfigurationError) -> StreamDefinition {
        let prefix = path.isEmpty ? "" : path + "."
        // Re-serializing what JSONSerialization parsed cannot fail; a non-object is the error
        // reported here, so the (impossible) serialization error is safe to ignore.
        guard item is [String: Any], let data = try? JSONSerialization.data(withJSONObject: item) else {  // ignore: see above
            throw ConfigurationError(field: path, problem: "must be a JSON object")
        }
        do {
            return try StreamDefinition.decode(json: data)
        } catch {
            throw ConfigurationError(field: "\(prefix)\(error.field)", problem: error.problem)
        }
    }
}
