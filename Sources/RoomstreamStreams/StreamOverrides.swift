import Foundation

/// Streams created or changed through the admin API, and configured streams it deleted,
/// persisted in `data/streams/definitions.json` (mode 0600: it holds S3 secrets) so API
/// changes survive restarts. Applied over the config file's streams at start.
public struct StreamOverrides: DurableJSONDocument, Equatable {
    public var streams: [StoredDefinition] = []
    public var deleted: [String] = []

    public init() {}

    public func apply(to configured: [StreamDefinition]) -> [StreamDefinition] {
        var result = configured.filter { definition in !deleted.contains(definition.id) }
        for stored in streams {
            let definition = stored.definition
            if let index = result.firstIndex(where: { $0.id == definition.id }) { result[index] = definition } else { result.append(definition) }
        }
        return result
    }
}

/// A stream definition in its persisted form (snake_case, secrets included).
public struct StoredDefinition: Codable, Sendable, Equatable {
    var id: String
    var intervalMinutes: Int
    var compression: String
    var writeEmpty: Bool
    var keyTemplate: String
    var paused: Bool
    var destinationType: String
    var path: String?
    var endpoint: String?, region: String?, bucket: String?, prefix: String?, accessKeyID: String?
    var secretAccessKey: String?, secretAccessKeyEnv: String?, pathStyle: Bool?

    enum CodingKeys: String, CodingKey {
        case id, compression, paused, path, endpoint, region, bucket, prefix
        case intervalMinutes = "interval_minutes", writeEmpty = "write_empty", keyTemplate = "key_template"
        case destinationType = "destination_type", accessKeyID = "access_key_id", secretAccessKey = "secret_access_key"
        case secretAccessKeyEnv = "secret_access_key_env", pathStyle = "path_style"
    }

    public init(_ definition: StreamDefinition) {
        id = definition.id
        intervalMinutes = definition.intervalMinutes
        compression = definition.compression.rawValue
        writeEmpty = definition.writeEmpty
        keyTemplate = definition.keyTemplate
        paused = definition.paused
        switch definition.destination {
        case .directory(let directory):
            destinationType = "directory"
            path = directory
        case .s3(let s3):
            destinationType = "s3"
            endpoint = s3.endpoint
            region = s3.region
            bucket = s3.bucket
            prefix = s3.prefix
            accessKeyID = s3.accessKeyID
            secretAccessKey = s3.secretAccessKey
            secretAccessKeyEnv = s3.secretAccessKeyEnv
            pathStyle = s3.pathStyle
        }
    }

    public var definition: StreamDefinition {
        let destination: StreamDestination = destinationType == "s3"
            ? .s3(S3Destination(endpoint: endpoint ?? "", region: region ?? "", bucket: bucket ?? "", prefix: prefix ?? "",
                                accessKeyID: accessKeyID ?? "", secretAccessKey: secretAccessKey, secretAccessKeyEnv: secretAccessKeyEnv,
                                pathStyle: pathStyle ?? false))
            : .directory(path: path ?? "")
        return StreamDefinition(id: id, intervalMinutes: intervalMinutes, compression: StreamCompression(rawValue: compression) ?? .none,
                                writeEmpty: writeEmpty, keyTemplate: keyTemplate, destination: destination, paused: paused)
    }
}

#if canImport(Glibc)
import Glibc
#endif
