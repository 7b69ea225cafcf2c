import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A real systemd, for testing goedge's units and package: this machine's
/// own Debian booted in a systemd-nspawn container on an ``OverlayRoot``,
/// so every change vanishes with it. The container shares the host's
/// network, so tests reach its sockets on 127.0.0.1; it boots to
/// basic.target, so none of the host's installed services (nginx,
/// databases) start in it.
///
/// Needs root, systemd-nspawn (Debian's systemd-container) and overlayfs.
public final class SystemdContainer: @unchecked Sendable {
    /// The container's file system.
    public let overlay: OverlayRoot
    /// The container's root folder: files written here are inside it.
    public var root: String { overlay.path }
    private let nspawn: ChildProcess
    private let leader: pid_t

    public static var isAvailable: Bool {
        OverlayRoot.isAvailable && which("systemd-nspawn") != nil && which("nsenter") != nil
    }

    /// Boots the container; `prepare` can change its file system first.
    public init(prepare: (OverlayRoot) throws -> Void = { _ in }) throws {
        overlay = try OverlayRoot()
        try prepare(overlay)

        nspawn = try ChildProcess(
            which("systemd-nspawn")!,
            ["-D", overlay.path, "--register=no", "--keep-unit", "--quiet", "--machine=goedge-test-\(getpid())", "-b",
             "systemd.unit=basic.target"])
        // The container's init: nspawn's child, once it runs systemd in a PID
        // namespace of its own (before that, nsenter would enter the host's).
        var found: pid_t = 0
        let deadline = ContinuousClock.now + .seconds(30)
        let ownNamespace = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/pid")) ?? ""
        while found == 0 && ContinuousClock.now < deadline && nspawn.isRunning {
            let children = (try? String(contentsOfFile: "/proc/\(nspawn.pid)/task/\(nspawn.pid)/children", encoding: .utf8)) ?? ""
            if let child = children.split(separator: " ").first.flatMap({ pid_t($0) }),
                (try? String(contentsOfFile: "/proc/\(child)/comm", encoding: .utf8))?.hasPrefix("systemd") == true,
                let namespace = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(child)/ns/pid"),
                namespace != ownNamespace
            {
                found = child
            } else {
                usleep(50_000)
            }
        }
        guard found != 0 else {
            let log = nspawn.output + nspawn.errorOutput
            Self.stop(nspawn: nspawn, leader: nil)
            throw TestFailure("the container did not start:\n\(log)")
        }
        leader = found
        // No answer, or "offline", until systemd has its control socket; then --wait waits for the boot.
        var state = ""
        var attempt: CommandResult?
        while ContinuousClock.now < deadline + .seconds(30) {
            attempt = try run(["systemctl", "is-system-running", "--wait"], timeout: .seconds(60))
            state = attempt!.output.trimmingCharacters(in: .whitespacesAndNewlines)
            if !state.isEmpty && state != "offline" { break }
            usleep(100_000)
        }
        guard ["running", "degraded"].contains(state) else {
            Self.stop(nspawn: nspawn, leader: leader)
            throw TestFailure("the container's systemd did not come up: \(attempt.map { "\($0)" } ?? "")")
        }
    }

    deinit {
        Self.stop(nspawn: nspawn, leader: leader)
    }

    /// Powers the container off, or failing that kills its init (which ends
    /// every process in its PID namespace); the overlay goes with the object.
    private static func stop(nspawn: ChildProcess, leader: pid_t?) {
        if let leader {
            _ = try? ChildProcess.run(which("nsenter")!, ["-t", String(leader), "-a", "--", "systemctl", "poweroff"], timeout: .seconds(10))
        }
        if nspawn.waitForExit(timeout: .seconds(20)) == nil {
            if let leader { kill(leader, SIGKILL) }
            nspawn.kill()
        }
    }

    /// Runs a command inside the container.
    public func run(_ command: [String], timeout: Duration = .seconds(60)) throws -> CommandResult {
        try ChildProcess.run(
            which("nsenter")!, ["-t", String(leader), "-a", "--"] + command,
            environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "SYSTEMD_COLORS": "0", "SYSTEMD_PAGER": ""],
            timeout: timeout)
    }

    /// Writes a file inside the container.
    public func write(_ path: String, _ text: String, mode: Int = 0o644) throws {
        try overlay.write(path, text, mode: mode)
    }

    /// Copies a host file into the container.
    public func copy(_ source: String, to path: String) throws {
        try overlay.copy(source, to: path)
    }

    /// `systemctl show` properties of a unit.
    public func properties(_ unit: String, _ names: [String]) throws -> [String: String] {
        let shown = try run(["systemctl", "show", unit] + names.flatMap { ["-p", $0] })
        var properties: [String: String] = [:]
        for line in shown.output.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            properties[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        return properties
    }
}
