import Foundation
import RoomstreamCore
@testable import RoomstreamStreams
import Testing

/// Directory destinations: relative paths resolve under the data directory, and streams made
/// through the admin API stay under the API root.
struct DirectoryConfinementTests {
    static func dataDirectory() throws -> String {
        let data = NSTemporaryDirectory() + "roomstream-confine-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        return data
    }

    @Test func relativePathsResolveUnderTheDataDirectory() {
        let confinement = DirectoryConfinement(dataDirectory: "/var/lib/roomstream")
        #expect(confinement.resolve("files") == "/var/lib/roomstream/files")
        #expect(confinement.resolve("/srv/exports/") == "/srv/exports")
        #expect(confinement.apiRoot == "/var/lib/roomstream/files")
        #expect(DirectoryConfinement(dataDirectory: "/d", apiRoot: "/srv/api").apiRoot == "/srv/api")
        #expect(DirectoryConfinement(dataDirectory: "/d", apiRoot: "api").apiRoot == "/d/api")
        #expect(DirectoryConfinement(dataDirectory: "rel").dataDirectory == FileManager.default.currentDirectoryPath + "/rel")
    }

    @Test(arguments: ["/etc/cron.d", "/tmp", "files/../../etc", "files/./x", "exports", "files-evil/x", "/"])
    func apiPathsOutsideTheRootAreRefused(_ path: String) throws {
        let confinement = DirectoryConfinement(dataDirectory: try Self.dataDirectory())
        #expect { try confinement.checkAPIPath(path) } throws: { ($0 as? StreamDefinitionError)?.field == "destination.path" }
    }

    @Test(arguments: ["files", "files/team-a", "files/a b/é"])
    func apiPathsUnderTheRootAreAccepted(_ path: String) throws {
        let data = try Self.dataDirectory()
        try DirectoryConfinement(dataDirectory: data).checkAPIPath(path)
        try DirectoryConfinement(dataDirectory: data).checkAPIPath(data + "/" + path)
    }

    @Test func aSymbolicLinkOutOfTheRootIsRefused() throws {
        let data = try Self.dataDirectory()
        try FileManager.default.createDirectory(atPath: data + "/files", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: data + "/files/escape", withDestinationPath: "/tmp")
        #expect { try DirectoryConfinement(dataDirectory: data).checkAPIPath("files/escape/cron") } throws: {
            ($0 as? StreamError) == nil && "\($0)".contains("symbolic link")
        }
    }

    @Test func theEngineRefusesAPIDirectoriesOutsideTheRootButKeepsConfiguredOnes() throws {
        let data = try Self.dataDirectory()
        let configured = StreamDefinition(id: "conf", destination: .directory(path: "/srv/outside-the-root"))
        let engine = try StreamsEngine(definitions: [configured], registry: RoomRegistry(),
                                       configuration: .init(dataDirectory: data, peerTimeoutSeconds: 30, publicURL: "http://x"), now: 0)
        #expect { try engine.create(StreamDefinition(id: "api", destination: .directory(path: "/etc/cron.d")), now: 0) } throws: {
            guard case .invalid(let problem) = $0 as? StreamsEngine.AdminError else { return false }
            return problem.field == "destination.path"
        }
        try engine.create(StreamDefinition(id: "api", destination: .directory(path: "files/api")), now: 0)
        try engine.update("conf") { $0.paused = true }  // the configured path is unchanged: allowed
        #expect { try engine.update("conf") { $0.destination = .directory(path: "/etc") } } throws: { _ in true }
    }

    @Test func aRelativeDestinationWritesUnderTheDataDirectoryNotTheWorkingDirectory() throws {
        let data = try Self.dataDirectory()
        let registry = RoomRegistry()
        let t0 = StreamsEngineTests.ms("2022-09-04T10:00:00.000Z")
        var configuration = StreamsEngine.Configuration(dataDirectory: data, peerTimeoutSeconds: 30, publicURL: "http://x")
        configuration.graceSeconds = 1
        let engine = try StreamsEngine(definitions: [StreamDefinition(id: "rel", intervalMinutes: 1, destination: .directory(path: "exports"))],
                                       registry: registry, configuration: configuration, now: t0)
        try StreamsEngineTests.endRoom(registry, "r", at: t0 + 1000)
        engine.tick(now: t0 + 100_000)
        let file = try #require(engine.statuses[0].files.first)
        #expect(file.state == .uploaded, "\(file.lastError ?? "")")
        #expect(FileManager.default.fileExists(atPath: "\(data)/exports/\(file.key)"))
        #expect(!FileManager.default.fileExists(atPath: "exports"))
    }
}
