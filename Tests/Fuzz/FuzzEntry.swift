#if canImport(Glibc)
import Glibc
#endif

/// The target this process fuzzes, from GOEDGE_FUZZ_TARGET (read once).
let fuzzTarget: FuzzTarget = {
    guard let name = getenv("GOEDGE_FUZZ_TARGET").map({ String(cString: $0) }), let target = FuzzTarget(rawValue: name) else {
        fatalError("set GOEDGE_FUZZ_TARGET to one of: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    return target
}()

/// libFuzzer's entry point (built with -sanitize=fuzzer, libFuzzer brings main).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafeRawPointer?, _ count: Int) -> Int32 {
    fuzzTarget.run(UnsafeRawBufferPointer(start: data, count: count))
    return 0
}

#if FUZZING
/// libFuzzer's driver, for a main of our own: SwiftPM names an executable's
/// entry point after its target and aliases `main` to it.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafeRawPointer?, Int) -> Int32
) -> Int32

@_cdecl("goedge_fuzz_main")
func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { data, size in fuzzOneInput(data, size) }
}
#endif
