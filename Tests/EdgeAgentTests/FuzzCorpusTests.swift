import Foundation
import Testing
import TestSupport

/// Every input the fuzzers ever kept (the crashers among them) runs through
/// its parser again on every test run: the goedge-fuzz binary, built
/// without the fuzzer, replays Tests/Fuzz/Corpus. (`scripts/fuzz` runs the
/// coverage-guided fuzzing itself, in CI too.)
@Suite struct FuzzCorpusTests {
    @Test func everyKeptInputStillParsesWithoutATrap() throws {
        let binary = URL(fileURLWithPath: Paths.goedge).deletingLastPathComponent().appendingPathComponent("goedge-fuzz").path
        let corpus = Paths.packageRoot + "/Tests/Fuzz/Corpus"
        let result = try ChildProcess.run(binary, [corpus], timeout: .seconds(120))
        #expect(result.status == 0, "\(result)")
        let replayed = Int(result.output.split(separator: " ").dropFirst().first ?? "") ?? 0
        #expect(replayed >= 40, "\(result.output)")
    }
}
