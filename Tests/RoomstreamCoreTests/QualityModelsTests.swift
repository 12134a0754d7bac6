import RoomstreamCore
import Testing

struct QualityModelsTests {
    /// metrics.md worked examples (2 × jitter as the jitter buffer delay, opus).
    @Test(arguments: [
        (0.0, 0.0, 0.0, 92.72, 4.40), (100, 10, 1, 87.40, 4.27), (428, 8, 3.6, 67.287, 3.47),
        (200, 30, 5, 72.802, 3.73), (600, 50, 10, 29.357, 1.58), (1000, 100, 30, -35.501, 1.00),
    ])
    func audioMOSWorkedExamples(_ rtt: Double, _ jitter: Double, _ loss: Double, _ r: Double, _ mos: Double) {
        let rFactor = AudioMOS.rFactor(rttMilliseconds: rtt, jitterBufferMilliseconds: 2 * jitter, lossPercent: loss, mimeType: "audio/opus")
        #expect(abs(rFactor - r) < 0.01)
        #expect(RoomRecord.round(AudioMOS.mos(rFactor: rFactor), decimals: 2) == mos)
    }

    @Test func audioMOSIsClampedAndCodecDefaultsToOpus() {
        #expect(AudioMOS.mos(rFactor: 120) == 4.5)
        #expect(AudioMOS.mos(rFactor: -3) == 1)
        #expect(AudioMOS.codecParameters(mimeType: "audio/unknown") == AudioMOS.codecParameters(mimeType: "audio/opus"))
    }

    /// video-mos-v1, docs/metrics.md worked examples.
    @Test(arguments: [
        (1000.0, 0.0, 0.0, 0.0, 4.5), (322.5, 0.0, 0.0, 0.0, 3.47), (1000, 3, 100, 10, 3.12),
        (1000, 0, 600, 20, 3.54), (100, 10, 400, 50, 1.20),
    ])
    func videoMOSWorkedExamples(_ bitrate: Double, _ loss: Double, _ rtt: Double, _ jitter: Double, _ expected: Double) {
        let mos = VideoMOS.mos(bitrateKbps: bitrate, pixels: 640 * 480, lossPercent: loss, rttMilliseconds: rtt, jitterMilliseconds: jitter)
        #expect(RoomRecord.round(mos, decimals: 2) == expected)
    }

    @Test func videoMOSIsMonotonicAndBounded() {
        var previous = 5.0
        for loss in stride(from: 0.0, through: 100, by: 5) {
            let mos = VideoMOS.mos(bitrateKbps: 500, pixels: nil, lossPercent: loss, rttMilliseconds: 100, jitterMilliseconds: 10)
            #expect(mos <= previous && mos >= 1 && mos <= 4.5)
            previous = mos
        }
        previous = 0
        for bitrate in stride(from: 0.0, through: 3000, by: 100) {
            let mos = VideoMOS.mos(bitrateKbps: bitrate, pixels: 1280 * 720, lossPercent: 1, rttMilliseconds: 100, jitterMilliseconds: 10)
            #expect(mos >= previous)
            previous = mos
        }
        previous = 5
        for rtt in stride(from: 0.0, through: 5000, by: 250) {
            let mos = VideoMOS.mos(bitrateKbps: 800, pixels: nil, lossPercent: 0, rttMilliseconds: rtt, jitterMilliseconds: 5)
            #expect(mos <= previous)
            previous = mos
        }
    }

    /// score-v1, docs/metrics.md worked examples.
    @Test(arguments: [
        (MediaScore.Inputs(audioLossPercent: 0, videoLossPercent: 0, rttMilliseconds: 50, jitterMilliseconds: 5), 10.0),
        (MediaScore.Inputs(audioLossPercent: 2, videoLossPercent: 4, rttMilliseconds: 250, jitterMilliseconds: 20), 6.5),
        (MediaScore.Inputs(audioLossPercent: 6, videoLossPercent: 4.5, rttMilliseconds: 2397, jitterMilliseconds: 11, lossDeviation: 4, rttDeviation: 300), 2.3),
        (MediaScore.Inputs(audioLossPercent: 50, videoLossPercent: 50, rttMilliseconds: 5000, jitterMilliseconds: 500, lossDeviation: 50, rttDeviation: 1000), 0.0),
        (MediaScore.Inputs(), 10.0),
    ])
    func scoreWorkedExamples(_ inputs: MediaScore.Inputs, _ expected: Double) {
        #expect(RoomRecord.round(MediaScore.score(inputs), decimals: 1) == expected)
    }

    @Test func scoreIsMonotonicInEveryInput() {
        let base = MediaScore.Inputs(audioLossPercent: 1, videoLossPercent: 1, rttMilliseconds: 150, jitterMilliseconds: 15, lossDeviation: 1, rttDeviation: 20)
        let worse: [MediaScore.Inputs] = [
            { var i = base; i.audioLossPercent = 2; return i }(), { var i = base; i.videoLossPercent = 2; return i }(),
            { var i = base; i.rttMilliseconds = 300; return i }(), { var i = base; i.jitterMilliseconds = 30; return i }(),
            { var i = base; i.lossDeviation = 3; return i }(), { var i = base; i.rttDeviation = 60; return i }(),
        ]
        for inputs in worse { #expect(MediaScore.score(inputs) < MediaScore.score(base)) }
    }
}
