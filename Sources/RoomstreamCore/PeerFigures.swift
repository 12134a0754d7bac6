/// One direction's figures, unrounded. nil is unknown.
public struct DirectionFigures: Sendable, Equatable {
    public var bitrateKbps: Double?
    public var packetLossPercent: Double?
    public var jitterMilliseconds: Double?
    /// Send direction only.
    public var rttMilliseconds: Double?
    public var mos: Double?
    public var score: Double?
    public init() {}
}

/// A kind's figures: both directions and the combined values (mean of send and recv, or the
/// one that exists; room-record.md).
public struct KindFigures: Sendable, Equatable {
    public var send = DirectionFigures()
    public var recv = DirectionFigures()
    public init() {}

    public var bitrateKbps: Double? { combine(send.bitrateKbps, recv.bitrateKbps) }
    public var packetLossPercent: Double? { combine(send.packetLossPercent, recv.packetLossPercent) }
    public var jitterMilliseconds: Double? { combine(send.jitterMilliseconds, recv.jitterMilliseconds) }
}

/// The mean of the values that are known; nil when none is (room-record.md: an unknown
/// value never pulls a mean toward 0).
public func mean(_ values: [Double?]) -> Double? {
    let known = values.compactMap { $0 }
    return known.isEmpty ? nil : known.reduce(0, +) / Double(known.count)
}

/// Combined value of two directions: their mean, or the one that is known.
public func combine(_ values: Double?...) -> Double? { mean(values) }

/// Everything the room record says about a peer's quality, unrounded.
public struct PeerFigures: Sendable, Equatable {
    public var audio = KindFigures()
    public var video = KindFigures()
    /// Mean of the audio send and recv MOS.
    public var mos: Double?
    public var score: Double?
    public var callSetupMilliseconds: Double?
    public init() {}

    /// Computes the figures from the four accumulators (index: kind × 2 + direction).
    public init(media: [MediaAccumulator], callSetupMilliseconds: Double?) {
        func accumulator(_ kind: MediaKind, _ direction: MediaDirection) -> MediaAccumulator {
            media[PeerConnectionTracker.slot(kind, direction)]
        }
        func figures(_ kind: MediaKind, _ direction: MediaDirection) -> DirectionFigures {
            let source = accumulator(kind, direction)
            var result = DirectionFigures()
            guard source.hasMedia else { return result }
            result.bitrateKbps = source.bitrateKbps
            result.packetLossPercent = source.packetLossPercent
            result.jitterMilliseconds = source.jitterMilliseconds
            if direction == .send { result.rttMilliseconds = source.rttMilliseconds }
            return result
        }
        audio.send = figures(.audio, .send)
        audio.recv = figures(.audio, .recv)
        video.send = figures(.video, .send)
        video.recv = figures(.video, .recv)

        // metrics.md: the rtt for both directions' MOS is the audio send rtt, else video's, else 0.
        let rtt = audio.send.rttMilliseconds ?? video.send.rttMilliseconds ?? 0
        for direction in MediaDirection.allCases {
            let source = accumulator(.audio, direction)
            guard source.hasMedia else { continue }
            let jitter = direction == .send ? audio.send.jitterMilliseconds : audio.recv.jitterMilliseconds
            let jitterBuffer = (direction == .recv ? source.jitterBufferMilliseconds : nil) ?? 2 * (jitter ?? 0)
            let loss = direction == .send ? audio.send.packetLossPercent : audio.recv.packetLossPercent
            let mos = AudioMOS.mos(rttMilliseconds: rtt, jitterBufferMilliseconds: jitterBuffer, lossPercent: loss ?? 0, mimeType: source.codecMimeType)
            if direction == .send { audio.send.mos = mos } else { audio.recv.mos = mos }
        }
        let videoRTT = video.send.rttMilliseconds ?? audio.send.rttMilliseconds ?? 0
        for direction in MediaDirection.allCases {
            let source = accumulator(.video, direction)
            guard source.hasMedia else { continue }
            let current = direction == .send ? video.send : video.recv
            let mos = VideoMOS.mos(
                bitrateKbps: current.bitrateKbps, pixels: source.framePixels, lossPercent: current.packetLossPercent ?? 0,
                rttMilliseconds: videoRTT, jitterMilliseconds: current.jitterMilliseconds ?? 0)
            if direction == .send { video.send.mos = mos } else { video.recv.mos = mos }
        }
        mos = combine(audio.send.mos, audio.recv.mos)

        // Scores: per audio direction from that direction alone, overall from everything.
        for direction in MediaDirection.allCases {
            let source = accumulator(.audio, direction)
            guard source.hasMedia else { continue }
            let current = direction == .send ? audio.send : audio.recv
            let inputs = MediaScore.Inputs(
                audioLossPercent: current.packetLossPercent, rttMilliseconds: rtt, jitterMilliseconds: current.jitterMilliseconds,
                lossDeviation: source.intervalLoss.standardDeviation, rttDeviation: accumulator(.audio, .send).intervalRTT.standardDeviation)
            if direction == .send { audio.send.score = MediaScore.score(inputs) } else { audio.recv.score = MediaScore.score(inputs) }
        }
        let anyMedia = media.contains { $0.hasMedia }
        if anyMedia {
            let lossDeviation = max(accumulator(.audio, .send).intervalLoss.standardDeviation, accumulator(.audio, .recv).intervalLoss.standardDeviation)
            let rttDeviation = max(accumulator(.audio, .send).intervalRTT.standardDeviation, accumulator(.video, .send).intervalRTT.standardDeviation)
            score = MediaScore.score(MediaScore.Inputs(
                audioLossPercent: audio.packetLossPercent, videoLossPercent: video.packetLossPercent,
                rttMilliseconds: audio.send.rttMilliseconds ?? video.send.rttMilliseconds,
                jitterMilliseconds: audio.jitterMilliseconds ?? video.jitterMilliseconds,
                lossDeviation: lossDeviation, rttDeviation: rttDeviation))
        }
        self.callSetupMilliseconds = callSetupMilliseconds
    }
}
