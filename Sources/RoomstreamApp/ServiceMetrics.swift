import Prometheus
import RoomstreamBasics
import RoomstreamCore
import RoomstreamHTTP
import RoomstreamServer
import RoomstreamStreams

/// The service's metrics in the Prometheus text exposition format (swift-prometheus's
/// registry; `GET /metrics`). Counters and histograms are updated as things happen; the
/// gauges of state (live rooms, spool, connections) are read when scraped, so they cost
/// nothing between scrapes. Every label has a bounded set of values: routes are patterns
/// (never paths), statuses and error codes are the service's own, streams are configured.
final class ServiceMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()

    private struct RequestKey: Hashable {
        var method: String
        var route: String
        var status: Int
    }

    /// The registry hands back the same series for the same name and labels, but building the
    /// label array costs per request; these keep each series under its key once made.
    private let requestCounters = SeriesCache<RequestKey, Counter>()
    private let durations = SeriesCache<String, DurationHistogram>()
    private let rejected = SeriesCache<String, Counter>()
    private let streamSeries = Locked<Set<String>>([])
    private static let durationBuckets: [Duration] = [
        .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2.5), .milliseconds(5),
        .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .seconds(2.5), .seconds(5), .seconds(10),
    ]
    private static let sealBuckets: [Duration] = [
        .milliseconds(10), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
        .seconds(2), .seconds(5), .seconds(10), .seconds(30), .seconds(60), .seconds(300),
    ]

    let samplesAccepted: Counter
    let samplesDuplicate: Counter
    let samplesLate: Counter

    /// One help text per metric family: swift-prometheus traps when a name is registered with
    /// two different ones.
    private enum Help {
        static let requests = "HTTP requests answered, by method, route pattern and status"
        static let durations = "Time from a complete request to its response being ready (write-ahead log included), by route pattern"
        static let ingestItems = "Samples and events in ingest requests, by what became of them"
        static let rejected = "Ingest requests refused, by error code (their items are not counted)"
        static let seals = "Windows sealed, by stream and result"
        static let sealDuration = "Time to seal one window into a spooled file"
        static let uploads = "Upload attempts, by stream and result"
        static let uploadedBytes = "Bytes of files delivered"
        static let connections = "Open connections by state, as of the last sweep (at most 250 ms old)"
        static let reclaimed = "Connections closed to admit new ones at server.max_connections since start, by reason"
        static let refused = "Connections closed at accept since start, by reason (limit: nothing to reclaim; per_client: server.max_connections_per_client)"
    }

    init() {
        samplesAccepted = registry.makeCounter(descriptor: .named("roomstream_ingest_items_total", Help.ingestItems), labels: [("result", "accepted")])
        samplesDuplicate = registry.makeCounter(descriptor: .named("roomstream_ingest_items_total", Help.ingestItems), labels: [("result", "duplicate")])
        samplesLate = registry.makeCounter(descriptor: .named("roomstream_ingest_items_total", Help.ingestItems), labels: [("result", "late")])
    }

    // MARK: Requests

    /// One answered request: `route` is the matched pattern (`none` when nothing matched).
    func requestFinished(method: HTTPMethod, route: String?, status: Int, duration: Duration) {
        // Methods outside the known set share one label value (clients choose method names).
        let methodLabel = if case .other = method { "other" } else { method.rawValue }
        let routeLabel = route ?? "none"
        let key = RequestKey(method: methodLabel, route: routeLabel, status: status)
        requestCounters.series(key) {
            registry.makeCounter(descriptor: .named("roomstream_http_requests_total", Help.requests),
                                 labels: [("method", methodLabel), ("route", routeLabel), ("status", String(status))])
        }.increment()
        durations.series(routeLabel) {
            registry.makeDurationHistogram(descriptor: .named("roomstream_http_request_duration_seconds", Help.durations),
                                           labels: [("route", routeLabel)], buckets: Self.durationBuckets)
        }.record(duration)
    }

    func ingested(_ outcome: IngestOutcome) {
        if outcome.accepted > 0 { samplesAccepted.increment(by: Int64(outcome.accepted)) }
        if outcome.duplicates > 0 { samplesDuplicate.increment(by: Int64(outcome.duplicates)) }
        if outcome.late > 0 { samplesLate.increment(by: Int64(outcome.late)) }
    }

    /// An ingest request refused, by its error code.
    func ingestRejected(code: String) {
        rejected.series(code) {
            registry.makeCounter(descriptor: .named("roomstream_ingest_rejected_requests_total", Help.rejected), labels: [("code", code)])
        }.increment()
    }

    // MARK: Streams

    func streams(_ measurement: StreamsMeasurement) {
        switch measurement {
        case .sealed(let stream, let seconds, _, _):
            registry.makeCounter(descriptor: .named("roomstream_seals_total", Help.seals), labels: [("stream", stream), ("result", "ok")])
                .increment()
            registry.makeDurationHistogram(descriptor: .named("roomstream_seal_duration_seconds", Help.sealDuration), labels: [("stream", stream)], buckets: Self.sealBuckets)
                .record(.nanoseconds(Int64((seconds * 1e9).rounded())))
        case .sealFailed(let stream):
            registry.makeCounter(descriptor: .named("roomstream_seals_total", Help.seals), labels: [("stream", stream), ("result", "failed")])
                .increment()
        case .delivered(let stream, _, let bytes):
            registry.makeCounter(descriptor: .named("roomstream_uploads_total", Help.uploads), labels: [("stream", stream), ("result", "ok")])
                .increment()
            registry.makeCounter(descriptor: .named("roomstream_uploaded_bytes_total", Help.uploadedBytes), labels: [("stream", stream)])
                .increment(by: Int64(bytes))
        case .deliveryFailed(let stream):
            registry.makeCounter(descriptor: .named("roomstream_uploads_total", Help.uploads), labels: [("stream", stream), ("result", "failed")])
                .increment()
        }
    }

    // MARK: Exposition

    /// The text exposition (format 0.0.4) with the state gauges read now.
    func exposition(registry rooms: RoomRegistry, streams: StreamsEngine?, server: ServerCounters?, log: WriteAheadLog.Statistics? = nil,
                    nowMilliseconds: Double) -> [UInt8] {
        gauge("roomstream_live_rooms", "Rooms in memory with at least one peer").set(rooms.liveRoomCount)
        gauge("roomstream_live_peers", "Peers in live rooms").set(rooms.livePeerCount)
        gauge("roomstream_live_state_bytes", "Estimated heap bytes of the live rooms (bounded by ingest.max_live_state_mib)").set(rooms.liveStateBytes)
        gauge("roomstream_ended_rooms", "Ended rooms held until every stream has sealed them").set(rooms.endedRoomCount)
        if let server {
            gauge("roomstream_open_connections", "Open HTTP connections").set(server.activeConnections)
            gauge("roomstream_buffered_request_bytes", "Request bytes buffered across connections").set(server.bufferedRequestBytes)
            // Counters kept by the server itself, exposed as gauges of their running totals.
            gauge("roomstream_connections_accepted", "Connections accepted since start").set(server.acceptedConnections)
            gauge("roomstream_connections_rejected", "Connections closed at accept since start (server.max_connections)").set(server.rejectedConnections)
            gauge("roomstream_overload_refusals", "Requests answered 503 server_busy since start (server.max_buffered_request_mib)").set(server.overloadRefusals)
            for activity in ConnectionStateMachine.Activity.allCases {
                registry.makeGauge(descriptor: .named("roomstream_connections", Help.connections),
                                   labels: [("state", activity.rawValue)]).set(server.connectionsByActivity[activity] ?? 0)
            }
            for reason in ConnectionStateMachine.ReclaimReason.allCases {
                registry.makeGauge(descriptor: .named("roomstream_connections_reclaimed", Help.reclaimed),
                                   labels: [("reason", reason.rawValue)]).set(server.reclaimed[reason] ?? 0)
            }
            for (reason, count) in [("limit", server.rejectedConnections), ("per_client", server.refusedPerClient)] {
                registry.makeGauge(descriptor: .named("roomstream_connections_refused", Help.refused),
                                   labels: [("reason", reason)]).set(count)
            }
            gauge("roomstream_connection_pressure", "1 while open connections are above the high-water mark (shortened header and idle timeouts)").set(server.underPressure ? 1 : 0)
        }
        if let log {
            // Records per group (about the accepted ingest requests per `fdatasync` under `fsync`)
            // is the group commit's effect: the 202s' rate over rate(roomstream_log_syncs).
            gauge("roomstream_log_groups", "Write-ahead log writes since start, each carrying every record appended while the previous one ran").set(log.groups)
            gauge("roomstream_log_syncs", "Write-ahead log syncs since start: fdatasync calls, or direct synchronous writes (roomstream_log_direct_writes 1)").set(log.syncs)
            gauge("roomstream_log_written_bytes", "Bytes written to the write-ahead log since start").set(log.bytesWritten)
            gauge("roomstream_log_sync_seconds", "Time spent in write-ahead log syncs since start (per sync: divide by roomstream_log_syncs)").set(log.syncSeconds)
            gauge("roomstream_log_direct_writes", "1 while the write-ahead log's segment takes direct synchronous writes (O_DIRECT | O_DSYNC, fsync policy), 0 for buffered writes and fdatasync").set(log.directWriteAlignment > 0 ? 1 : 0)
        }
        if let streams { streamGauges(streams.statuses, now: nowMilliseconds) }
        return registry.emitToBuffer()
    }

    private func gauge(_ name: String, _ help: String) -> Gauge { registry.makeGauge(descriptor: .named(name, help)) }

    /// Per-stream gauge families: name and help (swift-prometheus requires one help per name).
    private static let streamGaugeHelp: [(name: String, help: String)] = [
        ("roomstream_stream_delivery_lag_seconds", "Age of the oldest file not yet delivered (0: none)"),
        ("roomstream_stream_seal_lag_seconds", "How late the oldest due window's seal is (0: on time or paused)"),
        ("roomstream_stream_paused", "1 while the stream is paused"),
        ("roomstream_stream_pending_rooms", "Ended rooms waiting for the stream's next windows"),
    ]
    private static let spoolFilesHelp = "Files in the stream's spool, by delivery state"
    private static let spoolBytesHelp = "Bytes of the files in the stream's spool, by delivery state"

    private func streamGauges(_ statuses: [StreamsEngine.Status], now: Double) {
        let ids = Set(statuses.map(\.definition.id))
        // A deleted stream's series go, so a scrape never shows a stream that is not there.
        let gone = streamSeries.withLock { seen in
            defer { seen = ids }
            return seen.subtracting(ids)
        }
        for id in gone {
            for state in SealedFile.State.allCases {
                registry.unregisterGauge(registry.makeGauge(descriptor: .named("roomstream_spool_files", Self.spoolFilesHelp), labels: [("stream", id), ("state", state.rawValue)]))
                registry.unregisterGauge(registry.makeGauge(descriptor: .named("roomstream_spool_bytes", Self.spoolBytesHelp), labels: [("stream", id), ("state", state.rawValue)]))
            }
            for (name, help) in Self.streamGaugeHelp {
                registry.unregisterGauge(registry.makeGauge(descriptor: .named(name, help), labels: [("stream", id)]))
            }
        }
        for status in statuses {
            let id = status.definition.id
            for state in SealedFile.State.allCases {
                let files = status.files.filter { $0.state == state }
                registry.makeGauge(descriptor: .named("roomstream_spool_files", Self.spoolFilesHelp), labels: [("stream", id), ("state", state.rawValue)]).set(files.count)
                registry.makeGauge(descriptor: .named("roomstream_spool_bytes", Self.spoolBytesHelp), labels: [("stream", id), ("state", state.rawValue)])
                    .set(files.reduce(0) { $0 + $1.bytes })
            }
            let lags = StreamLags(status, now: now)
            let values = [lags.deliverySeconds, lags.sealSeconds, status.definition.paused ? 1 : 0, Double(status.pendingRooms)]
            for ((name, help), value) in zip(Self.streamGaugeHelp, values) {
                registry.makeGauge(descriptor: .named(name, help), labels: [("stream", id)]).set(value)
            }
        }
    }
}

/// A stream's lags, reported apart (issue: one `lag_seconds` hid a file stuck retrying):
/// sealing (how late the oldest due window is; a paused stream holds its windows and is
/// reported as paused, not late) and delivery (the age of the oldest file not delivered).
struct StreamLags: Equatable {
    var sealSeconds: Double
    var deliverySeconds: Double

    init(_ status: StreamsEngine.Status, now: Double) {
        sealSeconds = status.definition.paused ? 0 : max(0, now - Double(status.nextSealTime)) / 1000
        let oldest = status.files.filter { $0.state != .uploaded }.map(\.sealedAt).min()
        deliverySeconds = oldest.map { max(0, now - $0) / 1000 } ?? 0
    }
}

extension Gauge {
    fileprivate func set(_ value: Int) { set(Int64(value)) }
}

extension MetricNameDescriptor {
    /// A metric named exactly `name` (its unit already part of it) with its help text.
    fileprivate static func named(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }
}

/// Series of one metric family by key, each made once (under a lock; made at most once per key).
private final class SeriesCache<Key: Hashable & Sendable, Series: Sendable>: Sendable {
    private let made = Locked<[Key: Series]>([:])

    func series(_ key: Key, make: () -> Series) -> Series {
        made.withLock { made in
            if let series = made[key] { return series }
            let series = make()
            made[key] = series
            return series
        }
    }
}
