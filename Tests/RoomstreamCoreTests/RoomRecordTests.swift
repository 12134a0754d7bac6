import Foundation
@testable import RoomstreamCore
import Testing

struct RoomRecordTests {
    @Test(arguments: [
        (1.25, 1, 1.3), (-1.25, 1, -1.3), (2.5, 0, 3.0), (-2.5, 0, -3.0), (4.349, 2, 4.35), (0.04, 1, 0.0), (3.6, 1, 3.6),
    ])
    func roundsHalfAwayFromZero(_ value: Double, _ decimals: Int, _ expected: Double) {
        #expect(RoomRecord.round(value, decimals: decimals) == expected)
    }

    @Test(arguments: [
        (0.0, "1970-01-01T00:00:00.000Z"), (1_662_250_162_885, "2022-09-04T00:09:22.885Z"),
        (951_782_400_001, "2000-02-29T00:00:00.001Z"), (1_798_761_599_999, "2026-12-31T23:59:59.999Z"),
    ])
    func isoTimestamps(_ millis: Double, _ text: String) {
        #expect(ISO8601Milliseconds.format(millis) == text)
        #expect(ISO8601Milliseconds.parse(text) == millis)
    }

    @Test func rejectsMalformedTimestamps() {
        for text in ["2022-09-04T00:09:22Z", "2022-13-04T00:09:22.885Z", "2022-09-04 00:09:22.885Z", ""] {
            #expect(ISO8601Milliseconds.parse(text) == nil)
        }
    }

    @Test func combinedValuesAreTheMeanOfKnownDirections() {
        var kind = KindFigures()
        kind.send.bitrateKbps = 13
        kind.recv.bitrateKbps = 24
        kind.send.packetLossPercent = 3.6
        kind.recv.packetLossPercent = 0.1
        kind.recv.jitterMilliseconds = 4
        #expect(kind.bitrateKbps == 18.5)
        #expect(RoomRecord.round(kind.packetLossPercent ?? -1, decimals: 1) == 1.9)  // spec example
        #expect(kind.jitterMilliseconds == 4)  // only one direction known
        #expect(KindFigures().bitrateKbps == nil)
    }

    @Test func writerPlacesCommasAndRoundsNumbers() {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("a"); writer.number(4.349, decimals: 2)
        writer.key("b"); writer.number(6.0, decimals: 1)
        writer.key("c"); writer.integer(nil)
        writer.key("d"); writer.beginArray(); writer.string("x\"y"); writer.integer(2.5); writer.endArray()
        writer.key("e"); writer.beginObject(); writer.endObject()
        writer.endObject()
        #expect(writer.text == #"{"a":4.35,"b":6,"c":null,"d":["x\"y",3],"e":{}}"#)
    }

    @Test(arguments: [("room 1", "room%201"), ("a/b?c", "a%2Fb%3Fc"), ("é", "%C3%A9"), ("2022-09-04T00:09:22.885Z", "2022-09-04T00%3A09%3A22.885Z")])
    func percentEncoding(_ text: String, _ expected: String) {
        #expect(RoomRecord.percentEncode(text) == expected)
    }
}
