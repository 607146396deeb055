import Foundation
import FuzzTargets

/// `fuzz TARGET [libFuzzer options] [CORPUS…]` runs one target under libFuzzer (built by
/// `make fuzz` with `-sanitize=fuzzer -DFUZZING`); in an ordinary build, `fuzz TARGET FILE…`
/// replays files through the target, and `fuzz --list` names the targets.
@main
enum FuzzMain {
    static func main() {
        var arguments = CommandLine.arguments
        guard arguments.count >= 2, let target = FuzzTarget.named(arguments[1]) else {
            let names = FuzzTarget.all.map { "  \($0.name): \($0.summary)" }.joined(separator: "\n")
            print("usage: fuzz TARGET [libFuzzer options | files…]\ntargets:\n\(names)")
            exit(arguments.count >= 2 && arguments[1] == "--list" ? 0 : 2)
        }
        arguments.remove(at: 1)
        target.prepare()
        run(target, arguments: arguments)
    }

    #if FUZZING
    /// The target libFuzzer calls; a global because a C callback cannot capture.
    nonisolated(unsafe) static var current: FuzzTarget?

    static func run(_ target: FuzzTarget, arguments: [String]) {
        current = target
        var argc = Int32(arguments.count)
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = UnsafeMutablePointer.allocate(capacity: arguments.count + 1)
        for (index, argument) in arguments.enumerated() { argv?[index] = strdup(argument) }
        argv?[arguments.count] = nil
        exit(LLVMFuzzerRunDriver(&argc, &argv, fuzzTestOneInput))
    }
    #else
    static func run(_ target: FuzzTarget, arguments: [String]) {
        for path in arguments.dropFirst() {
            guard let data = FileManager.default.contents(atPath: path) else {
                print("cannot read \(path)")
                exit(1)
            }
            target(data)
        }
        print("replayed \(arguments.count - 1) input(s) through \(target.name)")
    }
    #endif
}

#if FUZZING
/// libFuzzer's entry point for programs with their own `main` (compiler-rt FuzzerInterface.h).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<Int32>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> Int32) -> Int32

/// The callback libFuzzer's runtime links against; it runs the target `main` chose.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    FuzzMain.current?(Data(bytes: data, count: size))
    return 0
}
#endif
