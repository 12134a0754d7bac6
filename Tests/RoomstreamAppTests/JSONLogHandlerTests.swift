import Foundation
import Logging
@testable import RoomstreamApp
import Testing

struct JSONLogHandlerTests {
    @Test func formatsOneObjectPerLine() throws {
        let line = JSONLogHandler.format(
            timestampMilliseconds: 1_662_249_562_885, level: .info, message: "listening \"now\"",
            metadata: ["port": "8080", "tags": .array(["a", "b"]), "nested": .dictionary(["k": "v"])])
        #expect(line == #"{"ts":"2022-09-03T23:59:22.885Z","level":"info","msg":"listening \"now\"","nested":{"k":"v"},"port":"8080","tags":["a","b"]}"# + "\n")
        _ = try JSONSerialization.jsonObject(with: Data(line.utf8))
    }

    @Test func loggerWritesThroughTheHandlerAndRespectsTheLevel() throws {
        let output = JSONLogOutput(capturing: ())
        var logger = Logger(label: "t") { _ in JSONLogHandler(level: .info, output: output) }
        logger[metadataKey: "service"] = "roomstream"
        logger.debug("hidden")
        logger.warning("shown", metadata: ["n": "1"])
        let lines = output.capturedLines
        #expect(lines.count == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        #expect(object["level"] as? String == "warning")
        #expect(object["msg"] as? String == "shown")
        #expect(object["n"] as? String == "1")
        #expect(object["service"] as? String == "roomstream")
    }
}
