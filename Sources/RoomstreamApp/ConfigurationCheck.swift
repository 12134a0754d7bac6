#if canImport(Glibc)
import Glibc
#endif
import Foundation
import RoomstreamStreams

/// `roomstream check-config FILE`: everything the server checks at start, and what it would
/// only find later, reported at once with each problem's JSON path: the file's syntax (line and
/// column), types, ranges and unknown keys, the environment overrides, the data directory, the
/// MaxMind databases, every stream's secrets and destination (tried for real: a small object
/// PUT and deleted on S3, a writable directory). Nothing is created or changed.
public enum ConfigurationCheck {
    public struct Report: Sendable {
        public var problems: [ConfigurationError]
        /// What the configuration amounts to, when it has no problems.
        public var summary: String
    }

    public static func run(file: String, environment: [String: String], tryDestinations: Bool = true) -> Report {
        guard let data = FileManager.default.contents(atPath: file) else {
            return Report(problems: [ConfigurationError(field: "", problem: "cannot read config file '\(file)'")], summary: "")
        }
        var (configuration, problems) = RoomstreamConfiguration.parseCollectingProblems(data, source: file)
        if problems.contains(where: { $0.field.isEmpty }) { return Report(problems: problems, summary: "") }  // not JSON
        do { try configuration.applyEnvironment(environment) } catch { problems.append(error) }
        if let problem = checkWritableDirectory(configuration.dataDirectory, field: "data_dir") { problems.append(problem) }
        do { _ = try GeoLocator(configuration: configuration.location) } catch { problems.append(error) }
        problems += streamProblems(configuration, environment: environment, tryDestinations: tryDestinations)
        return Report(problems: problems, summary: summary(configuration))
    }

    /// Secrets always; destinations when `tryDestinations` (the network may be slow or down).
    static func streamProblems(_ configuration: RoomstreamConfiguration, environment: [String: String], tryDestinations: Bool) -> [ConfigurationError] {
        let directories = DirectoryConfinement(dataDirectory: configuration.dataDirectory, apiRoot: configuration.apiDirectoryRoot)
        var problems: [ConfigurationError] = []
        for (index, stream) in configuration.streams.enumerated() {
            let path = "streams[\(index)]"
            switch stream.destination {
            case .s3(let s3):
                do { _ = try S3Credentials.resolve(s3, environment: environment) } catch {
                    problems.append(ConfigurationError(field: "\(path).\(error.field)", problem: error.problem))
                    continue
                }
                guard tryDestinations else { continue }
                if let failure = DestinationCheck.run(stream.destination, directories: directories, environment: environment) {
                    problems.append(ConfigurationError(field: "\(path).\(failure.field)", problem: failure.problem))
                }
            case .directory(let relative):
                if let problem = checkWritableDirectory(directories.resolve(relative), field: "\(path).destination.path") { problems.append(problem) }
            }
        }
        return problems
    }

    /// A directory roomstream will create if needed: it, or its nearest existing ancestor,
    /// must be a directory this process can write into.
    static func checkWritableDirectory(_ path: String, field: String) -> ConfigurationError? {
        var candidate = path.isEmpty ? "." : path
        var isDirectory: ObjCBool = false
        while !FileManager.default.fileExists(atPath: candidate, isDirectory: &isDirectory) {
            let parent = (candidate as NSString).deletingLastPathComponent
            candidate = parent.isEmpty ? "." : parent
        }
        guard isDirectory.boolValue else {
            return ConfigurationError(field: field, problem: "'\(path)' cannot be created: '\(candidate)' is not a directory")
        }
        guard access(candidate, W_OK | X_OK) == 0 else {
            return ConfigurationError(field: field, problem: "'\(path)' is not writable: '\(candidate)': \(String(cString: strerror(errno)))")
        }
        return nil
    }

    /// One line for the start-up log and `check-config`: streams, keys and what is enabled.
    public static func summary(_ configuration: RoomstreamConfiguration) -> String {
        let streams = configuration.streams.map { stream -> String in
            switch stream.destination {
            case .directory(let path): "\(stream.id) (every \(stream.intervalMinutes) min → directory \(path))"
            case .s3(let s3): "\(stream.id) (every \(stream.intervalMinutes) min → s3 \(s3.endpoint) bucket \(s3.bucket))"
            }
        }
        var parts = [
            "instance \(configuration.instanceID)",
            "listen \(configuration.server.host):\(configuration.server.port)"
                + (configuration.adminListener.map { ", admin listener \($0.host):\($0.port)" } ?? ""),
            "data_dir \(configuration.dataDirectory)",
            "\(configuration.ingestKeys.count) ingest key\(configuration.ingestKeys.count == 1 ? "" : "s")",
            "admin routes \(configuration.adminToken == nil ? "disabled" : "enabled")",
            "streams: \(streams.isEmpty ? "none" : streams.joined(separator: ", "))",
        ]
        if configuration.location.cityDatabase != nil || configuration.location.asnDatabase != nil { parts.append("location on") }
        if configuration.rateLimits.perAddress != nil || configuration.rateLimits.perKey != nil { parts.append("rate limits on") }
        return parts.joined(separator: "; ")
    }
}
