// libFuzzer target for the ingest path (simdjson shim, decoder, figures engine, record
// writer), run by `make fuzz` through FuzzDriver (a corpus replayer when built normally).
// Inputs are several ingest bodies separated by NUL, applied in order to one peer
// (IngestFuzzing), so that counter steps across bodies are fuzzed too.
import FuzzDriver
import IngestFuzzing

@main
struct FuzzIngest {
    static func main() throws {
        try FuzzDriver.run { bytes in
            let problems = IngestFuzzing.run(bytes)
            if let first = problems.first { fatalError(first) }
        }
    }
}
