#if !FUZZING
import Foundation

/// Built without the fuzzer (as `swift build` builds every target), the
/// same binary replays the corpora in the repository: every input ever
/// kept, crashers included, runs through its target again.
///
///     goedge-fuzz CORPUS-FOLDER      (folders named after the targets inside)
@main
struct Replay {
    static func main() {
        let arguments = CommandLine.arguments.dropFirst()
        guard let root = arguments.first else {
            print("usage: goedge-fuzz CORPUS-FOLDER (libFuzzer's own options apply to the fuzzing build)")
            exit(2)
        }
        var replayed = 0
        for target in FuzzTarget.allCases {
            let folder = root + "/" + target.rawValue
            let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
            for name in names.sorted() {
                guard let data = FileManager.default.contents(atPath: folder + "/" + name) else { continue }
                data.withUnsafeBytes { target.run($0) }
                replayed += 1
            }
        }
        print("replayed \(replayed) inputs")
    }
}
#endif
