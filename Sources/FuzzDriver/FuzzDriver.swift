// The shared entry point of the libFuzzer targets (`make fuzz`). Built with -DFUZZING (and
// coverage flags, by scripts/fuzz.sh) it hands control to libFuzzer's driver from its no-main
// runtime; built normally it replays the files given on the command line, so a crash input
// can be reproduced with `swift run <target> FILE`.
import Foundation

#if FUZZING
/// libFuzzer's driver, from libclang_rt.fuzzer_no_main (linked by scripts/fuzz.sh).
@_silgen_name("LLVMFuzzerRunDriver")
private func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32

/// The target's body; a C callback cannot capture, so it is reached through this global.
nonisolated(unsafe) private var fuzzBody: ((UnsafeRawBufferPointer) -> Void)?  // SAFETY: set once before libFuzzer starts, read only by its single thread
#endif

public enum FuzzDriver {
    /// Runs `body` on every input: libFuzzer's, or the files named in the arguments.
    public static func run(_ body: @escaping (UnsafeRawBufferPointer) -> Void) throws -> Never {
        #if FUZZING
        fuzzBody = body
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        // SAFETY: libFuzzer passes `size` readable bytes at `data` for the duration of the callback.
        exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in
            fuzzBody?(UnsafeRawBufferPointer(start: data, count: size))
            return 0
        })
        #else
        for path in CommandLine.arguments.dropFirst() {
            let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: path)))
            bytes.withUnsafeBytes { body($0) }
            print("ok \(path)")
        }
        exit(0)
        #endif
    }
}
