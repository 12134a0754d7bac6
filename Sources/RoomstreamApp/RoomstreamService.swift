import Foundation
import Logging
import RoomstreamHTTP
import RoomstreamServer

/// The running service: the HTTP server and everything behind its routes.
public final class RoomstreamService: Sendable {
    public let configuration: RoomstreamConfiguration
    public let readiness = Readiness()
    public let server: HTTPServer
    private let logger: Logger

    public init(configuration: RoomstreamConfiguration, logger: Logger, clock: any ServerClock = SystemClock()) {
        self.configuration = configuration
        self.logger = logger
        let router = Routes.make(readiness: readiness) { [logger] error, request in
            logger.error("handler failed", metadata: ["method": "\(request.method)", "target": "\(request.target)", "error": "\(error)"])
        }
        self.server = HTTPServer(configuration: configuration.server, clock: clock, logger: logger) { router.respond(to: $0) }
    }

    /// Prepares the data directory, starts listening, then reports ready.
    public func start() throws {
        do {
            try FileManager.default.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true)
        } catch {
            throw ConfigurationError(field: "data_dir", problem: "cannot create '\(configuration.dataDirectory)': \(error.localizedDescription)")
        }
        try server.start()
        readiness.set(.ready)
        logger.info("ready", metadata: ["version": "\(RoomstreamVersion.current)", "data_dir": "\(configuration.dataDirectory)"])
    }

    /// Stops taking traffic and finishes in-flight requests within the drain timeout.
    public func shutdown(completion: @escaping @Sendable (Bool) -> Void) {
        readiness.set(.draining)
        logger.info("draining", metadata: ["drain_timeout": "\(configuration.drainTimeout)"])
        server.shutdown(drainTimeout: configuration.drainTimeout) { [logger] clean in
            logger.info("stopped", metadata: ["clean": "\(clean)"])
            completion(clean)
        }
    }
}
