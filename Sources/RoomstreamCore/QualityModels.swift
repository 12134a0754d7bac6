import Foundation

/// Versions of the quality models, reported by the service and documented in docs/metrics.md.
public enum QualityModel {
    public static let metricsVersion = "metrics-v1"
    public static let videoMOSVersion = "video-mos-v1"
    public static let scoreVersion = "score-v1"
}

/// Audio MOS from the simplified ITU-T G.107 E-model (metrics.md, "Audio MOS").
public enum AudioMOS {
    /// Equipment impairment `Ie` and packet-loss robustness `Bpl` by codec (`codec.mimeType`).
    public static func codecParameters(mimeType: String?) -> (ie: Double, bpl: Double) {
        switch mimeType?.lowercased() {
        case "audio/opus", "audio/pcmu", "audio/pcma", "audio/g722": (0, 25.1)
        default: (0, 25.1)  // unknown codec: as opus
        }
    }

    /// - Parameters: one-way delay inputs in ms and loss in percent.
    public static func rFactor(rttMilliseconds: Double, jitterBufferMilliseconds: Double, lossPercent: Double, mimeType: String? = nil) -> Double {
        let d = rttMilliseconds / 2 + jitterBufferMilliseconds + 20
        let delayImpairment = 0.024 * d + (d > 177.3 ? 0.11 * (d - 177.3) : 0)
        let (ie, bpl) = codecParameters(mimeType: mimeType)
        let loss = max(0, lossPercent)
        let equipmentImpairment = ie + (95 - ie) * loss / (loss + bpl)
        return 93.2 - delayImpairment - equipmentImpairment
    }

    public static func mos(rFactor r: Double) -> Double {
        if r < 0 { return 1 }
        if r > 100 { return 4.5 }
        return 1 + 0.035 * r + 7e-6 * r * (r - 60) * (100 - r)
    }

    public static func mos(rttMilliseconds: Double, jitterBufferMilliseconds: Double, lossPercent: Double, mimeType: String? = nil) -> Double {
        mos(rFactor: rFactor(rttMilliseconds: rttMilliseconds, jitterBufferMilliseconds: jitterBufferMilliseconds, lossPercent: lossPercent, mimeType: mimeType))
    }
}

/// Our video MOS model (video-mos-v1, docs/metrics.md): 1 + 3.5 × B × L × D, where
/// B = √min(1, bitrate / target(resolution)), L = e^(−loss/6), D = 1 / (1 + max(0, d − 150)/500)
/// and d = rtt/2 + 2 × jitter (ms). Each factor is in (0, 1] and falls monotonically as its
/// input worsens, so the MOS is bounded to [1, 4.5] and monotonic.
public enum VideoMOS {
    /// Pixels assumed when the resolution is unknown (640×480).
    public static let defaultPixels: Double = 640 * 480

    /// kbit/s a 30 fps stream of this size needs to look good: 0.07 bit per pixel, at least 150.
    public static func targetBitrateKbps(pixels: Double?) -> Double {
        max(150, 0.07 * (pixels ?? defaultPixels) * 30 / 1000)
    }

    public static func mos(bitrateKbps: Double?, pixels: Double?, lossPercent: Double, rttMilliseconds: Double, jitterMilliseconds: Double) -> Double {
        let bitrateFactor = bitrateKbps.map { (min(1, max(0, $0) / targetBitrateKbps(pixels: pixels))).squareRoot() } ?? 1
        let lossFactor = exp(-max(0, lossPercent) / 6)
        let delay = max(0, rttMilliseconds) / 2 + 2 * max(0, jitterMilliseconds)
        let delayFactor = 1 / (1 + max(0, delay - 150) / 500)
        return min(4.5, max(1, 1 + 3.5 * bitrateFactor * lossFactor * delayFactor))
    }
}

/// The 0–10 media score (score-v1, docs/metrics.md): 10 minus bounded penalties.
public enum MediaScore {
    public struct Inputs: Sendable, Equatable {
        public var audioLossPercent: Double?
        public var videoLossPercent: Double?
        public var rttMilliseconds: Double?
        public var jitterMilliseconds: Double?
        /// Standard deviation over time of the per-interval loss (points) and rtt (ms).
        public var lossDeviation: Double
        public var rttDeviation: Double

        public init(audioLossPercent: Double? = nil, videoLossPercent: Double? = nil, rttMilliseconds: Double? = nil,
                    jitterMilliseconds: Double? = nil, lossDeviation: Double = 0, rttDeviation: Double = 0) {
            self.audioLossPercent = audioLossPercent
            self.videoLossPercent = videoLossPercent
            self.rttMilliseconds = rttMilliseconds
            self.jitterMilliseconds = jitterMilliseconds
            self.lossDeviation = lossDeviation
            self.rttDeviation = rttDeviation
        }
    }

    public struct Penalties: Sendable, Equatable {
        public var audioLoss: Double, videoLoss: Double, rtt: Double, jitter: Double, variance: Double
        public var total: Double { audioLoss + videoLoss + rtt + jitter + variance }
    }

    public static func penalties(_ inputs: Inputs) -> Penalties {
        Penalties(
            audioLoss: min(3, 0.5 * max(0, inputs.audioLossPercent ?? 0)),
            videoLoss: min(2, 0.25 * max(0, inputs.videoLossPercent ?? 0)),
            rtt: min(2, max(0, (inputs.rttMilliseconds ?? 0) - 100) / 150),
            jitter: min(1.5, max(0, (inputs.jitterMilliseconds ?? 0) - 10) / 20),
            variance: min(1.5, max(0, inputs.lossDeviation) / 4 + max(0, inputs.rttDeviation) / 100))
    }

    public static func score(_ inputs: Inputs) -> Double {
        max(0, 10 - penalties(inputs).total)
    }
}
