// swift-tools-version: 6.1
import PackageDescription

// Layers, lowest first (see docs/architecture.md):
//   RoomstreamHTTP   pure HTTP/1.1 parser and response encoder: bytes in, values out, no sockets
//   RoomstreamServer POSIX sockets + Dispatch, connection lifecycle, router
//   RoomstreamApp    configuration, JSON logging, routes, service wiring
//   roomstream       the thin executable (CLI)
// Release builds specialize generics across module boundaries (the request path crosses
// HTTP → Server → App → Ingest → Core); without it, generic code from another module runs
// unspecialized, through metadata look-ups (docs/decisions.md).
let release: [SwiftSetting] = [.unsafeFlags(["-cross-module-optimization"], .when(configuration: .release))]

let package = Package(
    name: "roomstream",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "roomstream", targets: ["roomstream"]),
        .executable(name: "roomstream-bench", targets: ["roomstream-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // Calendar arithmetic and JSON string quoting shared by the wire and domain layers.
        .target(name: "RoomstreamBasics"),
        .target(name: "RoomstreamHTTP", dependencies: ["RoomstreamBasics"]),
        // simdjson (Debian libsimdjson-dev) behind a small C interface.
        .target(name: "CSimdjson", linkerSettings: [.linkedLibrary("simdjson")]),
        // SHA-256, MD5, HMAC-SHA256 from OpenSSL's libcrypto (Debian libssl-dev, which libcurl links too).
        .target(name: "CDigest", linkerSettings: [.linkedLibrary("crypto")]),
        // libcurl (Debian libcurl4-openssl-dev) behind one C call per request.
        .target(name: "CCurl", linkerSettings: [.linkedLibrary("curl")]),
        .target(name: "CEpoll"),
        // O_DIRECT | O_DSYNC opens with statx's direct-I/O alignment, for the write-ahead log.
        .target(name: "CDirectIO"),
        // MaxMind DB look-ups (Debian libmaxminddb-dev) for peer locations.
        .target(name: "CMaxMind", linkerSettings: [.linkedLibrary("maxminddb")]),
        // zlib (Debian zlib1g-dev) for gzip request bodies.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // The domain: rooms, peers, figures, room records. No I/O; time is passed in.
        .target(name: "RoomstreamCore", dependencies: ["RoomstreamBasics", .product(name: "HeapModule", package: "swift-collections")]),
        // Data streams: windows, seal scheduling, stream definitions (issue 4, in progress).
        .target(name: "RoomstreamStreams", dependencies: ["RoomstreamBasics", "RoomstreamCore", "CZlib", "CCurl", "CDigest", "CDirectIO"]),
        // Request bodies → domain values (simdjson), with field-naming validation errors.
        .target(name: "RoomstreamIngest", dependencies: ["CSimdjson", "CZlib", "RoomstreamCore"]),
        .target(
            name: "RoomstreamServer",
            dependencies: ["RoomstreamHTTP", "RoomstreamBasics", "CEpoll", .product(name: "Logging", package: "swift-log")]
        ),
        .target(
            name: "RoomstreamApp",
            dependencies: [
                "RoomstreamHTTP", "RoomstreamServer", "RoomstreamCore", "RoomstreamIngest", "RoomstreamStreams", "CMaxMind",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .executableTarget(
            name: "roomstream",
            dependencies: [
                "RoomstreamApp",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // `make bench`: decode+apply timing against JSONDecoder, memory per peer.
        .executableTarget(name: "roomstream-bench", dependencies: ["CSimdjson", "RoomstreamCore", "RoomstreamIngest", "RoomstreamStreams"]),
        // libFuzzer target for the HTTP parser (`make fuzz`); a corpus replayer otherwise.
        .target(name: "FuzzDriver"),
        .executableTarget(name: "roomstream-fuzz-http", dependencies: ["FuzzDriver", "RoomstreamHTTP"]),
        // libFuzzer target for the ingest decode path (`make fuzz`); a corpus replayer otherwise.
        // Several ingest bodies in a row to one peer, then the records (fuzz target and tests).
        .target(name: "IngestFuzzing", dependencies: ["RoomstreamCore", "RoomstreamIngest"]),
        .executableTarget(name: "roomstream-fuzz-ingest", dependencies: ["FuzzDriver", "IngestFuzzing"]),
        // Blocking raw-socket client and polling helpers shared by the socket tests.
        .target(name: "TestSupport", dependencies: ["RoomstreamBasics"], path: "Tests/TestSupport"),
        .testTarget(name: "RoomstreamBasicsTests", dependencies: ["RoomstreamBasics"]),
        .testTarget(name: "RoomstreamHTTPTests", dependencies: ["RoomstreamHTTP"]),
        .target(name: "CMallocStats", path: "Tests/CMallocStats"),
        .executableTarget(name: "roomstream-footprint-probe", dependencies: ["RoomstreamCore", "CMallocStats"], path: "Tests/FootprintProbe"),
        .testTarget(name: "RoomstreamCoreTests", dependencies: ["RoomstreamCore", "TestSupport"]),
        .testTarget(
            name: "RoomstreamStreamsTests",
            dependencies: ["RoomstreamStreams", "RoomstreamCore", "RoomstreamIngest", "TestSupport"],
            exclude: ["Fixtures"]  // read by path (sigv4-golden.json), not bundled
        ),
        .testTarget(name: "RoomstreamIngestTests", dependencies: ["RoomstreamIngest", "RoomstreamCore", "IngestFuzzing", "TestSupport"]),
        .testTarget(name: "RoomstreamServerTests", dependencies: ["RoomstreamServer", "RoomstreamHTTP", "RoomstreamBasics", "CEpoll", "TestSupport"]),
        .testTarget(
            name: "RoomstreamAppTests",
            dependencies: ["RoomstreamApp", "RoomstreamServer", "RoomstreamHTTP", "RoomstreamStreams", "TestSupport", .product(name: "Logging", package: "swift-log")]
        ),
    ],
    swiftLanguageModes: [.v6],
    cxxLanguageStandard: .cxx17
)

for target in package.targets where target.type != .system && !target.name.hasPrefix("C") {
    target.swiftSettings = (target.swiftSettings ?? []) + release
}
