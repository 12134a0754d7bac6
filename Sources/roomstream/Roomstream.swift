#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import Dispatch
import Foundation
import Logging
import RoomstreamApp

@main
struct Roomstream: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "roomstream",
        abstract: "Self-hosted WebRTC quality data streams.",
        version: "roomstream \(RoomstreamVersion.current)",
        subcommands: [Serve.self, CheckConfig.self, Import.self, Simulate.self]
    )
}

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the HTTP service.",
        discussion: "Flags override the config file, which overrides built-in defaults. Exit status 2: invalid configuration."
    )

    @Option(name: .long, help: "JSON config file (see Config/roomstream.json).")
    var config: String?

    @Option(name: .long, help: "Address to listen on, e.g. 0.0.0.0, :: or 127.0.0.1.")
    var host: String?

    @Option(name: .long, help: "Port to listen on (0 picks a free one).")
    var port: Int?

    @Option(name: .customLong("data-dir"), help: "Directory for roomstream's state.")
    var dataDir: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String?

    func run() throws {
        let configuration: RoomstreamConfiguration
        do {
            configuration = try resolveConfiguration()
        } catch {
            bootstrapLogging(level: .info)
            Logger(label: "roomstream").critical("invalid configuration: \(error)")
            throw ExitCode(2)
        }
        bootstrapLogging(level: Logger.Level(rawValue: configuration.logLevel) ?? .info)
        let logger = Logger(label: "roomstream")

        // Writes to a closed socket must fail with EPIPE, not kill the process.
        signal(SIGPIPE, SIG_IGN)
        let service: RoomstreamService
        do {
            service = try RoomstreamService(configuration: configuration, logger: logger)
            try service.start()
        } catch {
            logger.critical("cannot start: \(error)")
            throw ExitCode(error is ConfigurationError ? 2 : 1)
        }
        ShutdownSignals.install(logger: logger) { service.shutdown { _ in Glibc.exit(0) } }
        dispatchMain()
    }

    private func resolveConfiguration() throws(ConfigurationError) -> RoomstreamConfiguration {
        var configuration = try config.map(RoomstreamConfiguration.load(file:)) ?? RoomstreamConfiguration()
        try configuration.applyEnvironment(ProcessInfo.processInfo.environment)
        try configuration.apply(host: host, port: port, dataDirectory: dataDir, logLevel: logLevel)
        return configuration
    }

    private func bootstrapLogging(level: Logger.Level) {
        LoggingSystem.bootstrap { _ in JSONLogHandler(level: level) }
    }
}

struct CheckConfig: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Check a config file as the server would at start, and try its streams' destinations.",
        discussion: """
            Prints every problem with its JSON path (a JSON syntax error with its line and column) and exits 2, \
            or prints a summary and exits 0. Environment overrides (ROOMSTREAM_ADMIN_TOKEN, ROOMSTREAM_INGEST_KEYS, \
            AWS_*) apply as for serve. S3 destinations get a small test object, written and deleted; nothing else is changed.
            """
    )

    @Argument(help: "The JSON config file.")
    var file: String

    @Flag(name: .customLong("no-destinations"), help: "Do not contact the streams' destinations (secrets are still checked).")
    var noDestinations = false

    func run() throws {
        let report = ConfigurationCheck.run(file: file, environment: ProcessInfo.processInfo.environment, tryDestinations: !noDestinations)
        guard report.problems.isEmpty else {
            for problem in report.problems { print("\(file): \(problem)") }
            print("\(file): \(report.problems.count) problem\(report.problems.count == 1 ? "" : "s")")
            throw ExitCode(2)
        }
        print("\(file): ok; \(report.summary)")
    }
}

struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Import past calls.", subcommands: [ImportRtcstats.self])
}

struct ImportRtcstats: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rtcstats",
        abstract: "Turn jitsi/rtcstats-server dumps into room records and data stream files.",
        discussion: """
            Each dump is one peer's session (one JSON array per line). Its calls go through the same ingest path as \
            live requests, at their recorded times; peers of the same room (by --room, or the dump's page path) are \
            joined. Files are written under --out, one directory per stream of --config (default: one hourly stream), \
            keyed by the stream's key template, sealed like live files. docs/bi.md.
            """
    )

    @Argument(help: "rtcstats dump files.")
    var dumps: [String]

    @Option(name: .long, help: "Directory to write the files into.")
    var out: String

    @Option(name: .long, help: "Config file whose streams (interval, compression, key template) and public_url to use.")
    var config: String?

    @Option(name: .long, help: "Room id for every dump (default: the dump's page path).")
    var room: String?

    func run() throws {
        var configuration = RoomstreamConfiguration()
        if let config {
            do { configuration = try RoomstreamConfiguration.load(file: config) } catch {
                print("invalid configuration: \(error)")
                throw ExitCode(2)
            }
        }
        let report: RtcstatsImport.Report
        do { report = try RtcstatsImport.run(dumpPaths: dumps, output: out, configuration: configuration, room: room) } catch {
            print("\(error)")
            throw ExitCode(1)
        }
        for problem in report.refused { print("refused: \(problem)") }
        print("\(dumps.count) dumps, \(report.requests) requests (\(report.refused.count) refused), \(report.rooms) rooms, \(report.files.count) files:")
        for file in report.files { print("  \(file)") }
        if !report.refused.isEmpty { throw ExitCode(1) }
    }
}

/// SIGTERM and SIGINT start a graceful drain; a second one exits at once.
enum ShutdownSignals {
    nonisolated(unsafe) private static var sources: [DispatchSourceSignal] = []  // SAFETY: written once on the main thread before dispatchMain

    static func install(logger: Logger, onFirstSignal: @escaping @Sendable () -> Void) {
        let received = SignalCount()
        for number in [SIGTERM, SIGINT] {
            signal(number, SIG_IGN)  // let Dispatch see the signal instead of the default handler
            let source = DispatchSource.makeSignalSource(signal: number, queue: .main)
            source.setEventHandler {
                if received.increment() == 1 {
                    logger.info("signal received; draining", metadata: ["signal": "\(number)"])
                    onFirstSignal()
                } else {
                    logger.warning("second signal; exiting without waiting for the drain")
                    Glibc.exit(1)
                }
            }
            source.resume()
            sources.append(source)
        }
    }
}

struct Simulate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Post realistic getStats() samples to a roomstream service, for demos and load.",
        discussion: "Each peer posts Chrome-shaped samples with growing counters every --sample-interval seconds, connection events first and a leave at the end."
    )

    @Option(help: "Base URL of the service (plain http).") var url: String = "http://127.0.0.1:8080"
    @Option(help: "An ingest key (ingest.keys).") var key: String
    @Option(help: "Rooms to simulate.") var rooms: Int = 1
    @Option(name: .customLong("peers-per-room"), help: "Peers in each room.") var peersPerRoom: Int = 2
    @Option(help: "Seconds to run.") var duration: Double = 10
    @Option(name: .customLong("sample-interval"), help: "Seconds between a peer's samples.") var sampleInterval: Double = 1
    @Option(help: "Packet loss to simulate, percent.") var loss: Double = 0
    @Flag(help: "Simulate a TURN-relayed connection.") var relay = false
    @Option(help: "Connections posting at once.") var concurrency: Int = 8

    func validate() throws {
        guard rooms >= 1, peersPerRoom >= 1 else { throw ValidationError("--rooms and --peers-per-room must be at least 1") }
        guard duration > 0, sampleInterval > 0 else { throw ValidationError("--duration and --sample-interval must be positive") }
        guard (0...100).contains(loss) else { throw ValidationError("--loss must be from 0 to 100") }
        guard concurrency >= 1 else { throw ValidationError("--concurrency must be at least 1") }
    }

    func run() throws {
        var options = Simulator.Options(url: url, key: key)
        options.rooms = rooms
        options.peersPerRoom = peersPerRoom
        options.durationSeconds = duration
        options.sampleIntervalSeconds = sampleInterval
        options.lossPercent = loss
        options.relay = relay
        options.concurrency = concurrency
        let summary = try Simulator(options: options).run()
        print(summary)
        if summary.accepted == 0 { throw ExitCode(1) }
    }
}
