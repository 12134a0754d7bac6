import Foundation
import IngestFuzzing
import Testing

/// Inputs the fuzzers found (Fuzz/regressions) and the seed corpus, through the whole path the
/// ingest fuzz target runs (IngestFuzzing: several bodies in a row to one peer, decode, apply,
/// records after each body and after the room ends). Each must give results or IngestErrors,
/// never a trap or a malformed record.
struct FuzzRegressionTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var inputs: [String] {
        ["Fuzz/regressions", "Fuzz/corpus/ingest"].flatMap { directory in
            ((try? FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent(directory).path)) ?? [])
                .filter { !$0.hasPrefix(".") }.map { "\(directory)/\($0)" }
        }.sorted()
    }

    @Test(arguments: inputs)
    func replay(_ path: String) throws {
        let bytes = try Array(Data(contentsOf: Self.root.appendingPathComponent(path)))
        let problems = bytes.withUnsafeBytes { IngestFuzzing.run($0) }
        #expect(problems.isEmpty, "\(problems)")
    }
}
