import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A program started by a test (with posix_spawn), its output going to files
/// so that it can be read at any time, killed when the test lets go of it.
public final class ChildProcess: @unchecked Sendable {
    public let pid: pid_t
    public let executable: String
    public let outputPath: String
    public let errorPath: String
    private let logs: TemporaryDirectory
    private let lock = NSLock()
    private var exitStatus: Int32?

    /// Starts `executable`. `passing` descriptors become the child's 3, 4, …
    /// (as systemd passes sockets).
    public init(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil, directory: String? = nil,
        passing descriptors: [Int32] = []
    ) throws {
        self.executable = executable
        logs = TemporaryDirectory()
        outputPath = logs.path + "/stdout"
        errorPath = logs.path + "/stderr"

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, errorPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        for (offset, descriptor) in descriptors.enumerated() {
            // dup2 clears close-on-exec on the copy.
            posix_spawn_file_actions_adddup2(&actions, descriptor, 3 + Int32(offset))
        }
        // glibc's posix_spawn_file_actions_addchdir_np does not import; coreutils' env -C does the same.
        let command = directory.map { ["/usr/bin/env", "-C", $0, executable] } ?? [executable]
        let argv = (command + arguments).map { strdup($0) } + [nil]
        var environment = environment ?? ProcessInfo.processInfo.environment
        // SwiftNIO then traps on work scheduled on an event loop that has
        // stopped (otherwise a line on stderr): a test sees the agent fail.
        if environment["SWIFTNIO_STRICT"] == nil { environment["SWIFTNIO_STRICT"] = "1" }
        let env = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            env.forEach { free($0) }
        }
        // Children start with default signal handling and nothing blocked,
        // whatever the test runner itself ignores.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var all = sigset_t()
        sigfillset(&all)
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        var child: pid_t = 0
        let result = posix_spawn(&child, command[0], &actions, &attributes, argv, env)
        guard result == 0 else { throw TestFailure("cannot start \(executable): \(String(cString: strerror(result)))") }
        pid = child
    }

    deinit { kill() }

    public var output: String { (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "" }
    public var errorOutput: String { (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? "" }

    /// The exit status (128 + N for a death by signal N), or nil while running.
    public var status: Int32? {
        lock.lock()
        defer { lock.unlock() }
        if let exitStatus { return exitStatus }
        var raw: Int32 = 0
        guard waitpid(pid, &raw, WNOHANG) == pid else { return nil }
        let signal = raw & 0x7f
        exitStatus = signal == 0 ? (raw >> 8) & 0xff : 128 + signal
        return exitStatus
    }

    public var isRunning: Bool { status == nil }

    /// Waits, at most `timeout`, for a line of standard output (or error)
    /// that contains `text`, and returns it.
    public func waitForLine(containing text: String, inErrorOutput: Bool = false, timeout: Duration = .seconds(20)) throws -> String {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let lines = (inErrorOutput ? errorOutput : output).split(separator: "\n")
            if let line = lines.first(where: { $0.contains(text) }) { return String(line) }
            if let status {
                throw TestFailure("\((executable as NSString).lastPathComponent) exited (\(status)) before printing \"\(text)\":\n\(output)\n\(errorOutput)")
            }
            usleep(10_000)
        }
        throw TestFailure("no line with \"\(text)\" within \(timeout):\n\(output)\n\(errorOutput)")
    }

    public func signal(_ number: Int32) {
        if isRunning { Glibc.kill(pid, number) }
    }

    /// The exit status, or nil if still running after `timeout`.
    @discardableResult
    public func waitForExit(timeout: Duration = .seconds(20)) -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let status { return status }
            usleep(10_000)
        }
        return status
    }

    public func kill() {
        guard isRunning else { return }
        Glibc.kill(pid, SIGKILL)
        _ = waitForExit(timeout: .seconds(10))
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

extension ChildProcess {
    /// How many inotify watches the process holds, from the kernel's own
    /// account (`/proc/PID/fdinfo`): tests wait for a watch to exist instead
    /// of sleeping and hoping the watcher got there.
    public var inotifyWatchCount: Int {
        let folder = "/proc/\(pid)/fdinfo"
        let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return descriptors.reduce(0) { count, descriptor in
            let info = (try? String(contentsOfFile: folder + "/" + descriptor, encoding: .utf8)) ?? ""
            return count + info.split(separator: "\n").filter { $0.hasPrefix("inotify wd:") }.count
        }
    }

    /// Whether a tracer (strace, a debugger) is attached to every thread of
    /// the process.
    public var isTraced: Bool {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        return !tasks.isEmpty && tasks.allSatisfy { task in
            let status = (try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/status", encoding: .utf8)) ?? ""
            let tracer = status.split(separator: "\n").first { $0.hasPrefix("TracerPid:") }
            return tracer.map { !$0.hasSuffix("\t0") } ?? false
        }
    }
}
