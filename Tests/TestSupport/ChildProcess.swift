import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A program started by a test, its output going to files so that it can be
/// read at any time, stopped when the test lets go of it.
public final class ChildProcess: @unchecked Sendable {
    public let process = Process()
    public let outputPath: String
    public let errorPath: String
    private let logs: TemporaryDirectory

    public init(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil, directory: String? = nil
    ) throws {
        logs = TemporaryDirectory()
        outputPath = logs.path + "/stdout"
        errorPath = logs.path + "/stderr"
        _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errorPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle(forWritingAtPath: outputPath)
        process.standardError = FileHandle(forWritingAtPath: errorPath)
        try process.run()
    }

    deinit {
        if process.isRunning {
            Glibc.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    public var pid: Int32 { process.processIdentifier }
    public var output: String { (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "" }
    public var errorOutput: String { (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? "" }

    /// Waits, at most `timeout`, for a line of standard output (or error)
    /// that contains `text`, and returns it.
    public func waitForLine(containing text: String, inErrorOutput: Bool = false, timeout: Duration = .seconds(20)) throws -> String {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let lines = (inErrorOutput ? errorOutput : output).split(separator: "\n")
            if let line = lines.first(where: { $0.contains(text) }) { return String(line) }
            if !process.isRunning {
                throw TestFailure("\(process.executableURL!.lastPathComponent) exited (\(process.terminationStatus)) before printing \"\(text)\":\n\(output)\n\(errorOutput)")
            }
            usleep(10_000)
        }
        throw TestFailure("no line with \"\(text)\" within \(timeout):\n\(output)\n\(errorOutput)")
    }

    public func signal(_ number: Int32) {
        Glibc.kill(process.processIdentifier, number)
    }

    /// The exit status, or nil if still running after `timeout`.
    @discardableResult
    public func waitForExit(timeout: Duration = .seconds(20)) -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline { usleep(10_000) }
        if process.isRunning { return nil }
        process.waitUntilExit()
        return process.terminationStatus
    }

    public func kill() {
        guard process.isRunning else { return }
        signal(SIGKILL)
        process.waitUntilExit()
    }

    /// Runs a command to its end (at most `timeout`) and returns what it did.
    public static func run(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil, directory: String? = nil,
        timeout: Duration = .seconds(120)
    ) throws -> CommandResult {
        let child = try ChildProcess(executable, arguments, environment: environment, directory: directory)
        guard let status = child.waitForExit(timeout: timeout) else {
            child.kill()
            throw TestFailure("\(executable) \(arguments.joined(separator: " ")) did not finish within \(timeout)")
        }
        return CommandResult(status: status, output: child.output, errorOutput: child.errorOutput)
    }
}

/// What a finished command did.
public struct CommandResult: Equatable, Sendable, CustomStringConvertible {
    public var status: Int32
    public var output: String
    public var errorOutput: String

    public var description: String { "exit \(status)\n--- stdout\n\(output)--- stderr\n\(errorOutput)" }
}

public struct TestFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Finds a program on PATH.
public func which(_ program: String) -> String? {
    for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
        let candidate = "\(directory)/\(program)"
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return nil
}
