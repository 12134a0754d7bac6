import RoomstreamCore
import RoomstreamHTTP
import RoomstreamServer
import RoomstreamStreams

/// Routes of the service: health, ingest, rooms. Issue 4 adds streams here.
enum Routes {
    /// Which listener the routes serve: the main one has everything; the admin listener
    /// (`server.admin_listener`) everything but ingest.
    enum Surface { case main, admin }

    static func make(
        readiness: Readiness, registry: RoomRegistry = RoomRegistry(), streams: StreamsEngine? = nil, durability: IngestDurability = IngestDurability(),
        configuration: RoomstreamConfiguration = RoomstreamConfiguration(),
        clock: any WallClock = SystemWallClock(), metrics: ServiceMetrics? = nil, locator: GeoLocator = GeoLocator(), surface: Surface = .main, serverCounters: @escaping @Sendable () -> ServerCounters? = { nil },
        onUnexpectedError: @escaping @Sendable (any Error, HTTPRequest) -> Void
    ) -> Router {
        var router = Router(onUnexpectedError: onUnexpectedError)
        let authorization = Authorization(ingestKeys: configuration.ingestKeys, adminToken: configuration.adminToken)
        var durability = durability
        durability.retryAfterSeconds = max(1, Int(configuration.checkpointIntervalSeconds.rounded(.up)))
        if surface == .main {
            IngestRoutes(registry: registry, authorization: authorization, clock: clock, maxDecompressedBytes: configuration.maxDecompressedBodyBytes,
                         durability: durability, cors: IngestCORS(origins: configuration.corsOrigins),
                         rateLimits: IngestRateLimits(configuration: configuration.rateLimits), clientAddress: configuration.clientAddress, metrics: metrics,
                         locator: locator)
                .register(on: &router)
        }
        RoomRoutes(registry: registry, authorization: authorization, publicURL: configuration.publicURL, streams: streams).register(on: &router)
        if let streams {
            StreamRoutes(engine: streams, authorization: authorization, clock: clock).register(on: &router)
            StreamAdminRoutes(engine: streams, authorization: authorization, clock: clock).register(on: &router)
        }
        if let metrics {
            let open = configuration.metricsOpen
            let log = durability.log
            router.add(.get, "/metrics") { request in
                if !open { try authorization.requireAdmin(request) }
                let body = metrics.exposition(registry: registry, streams: streams, server: serverCounters(), log: log?.statistics,
                                              nowMilliseconds: clock.nowMilliseconds())
                return HTTPResponse(status: .ok, headers: [
                    HTTPHeaderField("Content-Type", "text/plain; version=0.0.4; charset=utf-8"), HTTPHeaderField("Cache-Control", "no-store"),
                ], body: body)
            }
        }
        WebRoutes().register(on: &router)
        router.add(.get, "/v1/version") { _ in
            .json(.ok, "{\"version\":\"\(RoomstreamVersion.current)\",\"metrics_model\":\"\(QualityModel.metricsVersion)\",\"video_mos_model\":\"\(QualityModel.videoMOSVersion)\",\"score_model\":\"\(QualityModel.scoreVersion)\",\"record_format\":\"v1\"}")
        }
        router.add(.get, "/healthz") { _ in
            .json(.ok, #"{"status":"ok"}"#, headers: [HTTPHeaderField("Cache-Control", "no-store")])
        }
        router.add(.get, "/readyz") { _ in
            switch readiness.state {
            case .ready:
                return .json(.ok, #"{"status":"ready"}"#, headers: [HTTPHeaderField("Cache-Control", "no-store")])
            case .starting:
                throw APIError.serviceUnavailable("starting", "the service is starting", retryAfterSeconds: 1)
            case .draining:
                throw APIError.serviceUnavailable("draining", "the service is shutting down", retryAfterSeconds: 5)
            }
        }
        return router
    }
}
