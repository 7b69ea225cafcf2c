import Foundation
import Prefetch

/// Asks the go command on PATH what a prefetch needs to know of it to warm
/// the toolchain it will switch to (``GoCommandFacts``). Nil when there is
/// no go command, or it does not answer within a few seconds: then no
/// toolchain is warmed, and the prefetch says so.
enum GoCommandProbe {
    static func facts(environment: [String: String] = ProcessInfo.processInfo.environment) -> GoCommandFacts? {
        // Exactly `go env GOTOOLCHAIN`: the one form the go command answers
        // before choosing a toolchain (any other may download one first).
        guard let setting = run(["env", "GOTOOLCHAIN"], environment: environment) else { return nil }
        var local = environment
        local["GOTOOLCHAIN"] = "local"
        guard let lines = run(["env", "GOVERSION", "GOHOSTOS", "GOHOSTARCH", "GOSUMDB"], environment: local)?
            .split(separator: "\n", omittingEmptySubsequences: false).map(String.init), lines.count >= 4
        else { return nil }
        return GoCommandFacts(
            version: lines[0], toolchainSetting: setting.split(separator: "\n").first.map(String.init) ?? "",
            platform: "\(lines[1])-\(lines[2])", checksumDatabase: lines[3])
    }

    /// `go ARGUMENTS`' standard output, or nil when it fails or takes too long.
    private static func run(_ arguments: [String], environment: [String: String]) -> String? {
        guard let go = executable(environment) else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: go)
        process.arguments = arguments
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        let finished = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in finished.signal() }
        do { try process.run() } catch { return nil }
        // A few lines of output, well within the pipe's buffer: wait for the exit first, a bounded time.
        if finished.wait(timeout: .now() + 10) == .timedOut {
            process.terminate()
            return nil
        }
        guard process.terminationStatus == 0 else { return nil }
        return String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    }

    private static func executable(_ environment: [String: String]) -> String? {
        for folder in (environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(folder)/go"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}
