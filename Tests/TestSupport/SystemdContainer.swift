import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A real systemd, for testing goedge's units: this machine's own Debian
/// booted in a systemd-nspawn container, on an overlay whose changes go to a
/// tmpfs and vanish with it. The container shares the host's network, so
/// tests reach its sockets on 127.0.0.1; it boots to basic.target, so none of
/// the host's installed services (nginx, databases) start in it.
///
/// Needs root, systemd-nspawn (Debian's systemd-container) and overlayfs.
public final class SystemdContainer: @unchecked Sendable {
    /// The container's root folder: files written here are inside it.
    public let root: String
    private let base: String
    private let nspawn: ChildProcess
    private let leader: pid_t

    public static var isAvailable: Bool {
        getuid() == 0 && which("systemd-nspawn") != nil && which("nsenter") != nil
    }

    public init() throws {
        var template = Array("/var/tmp/goedge-container-XXXXXX".utf8CString)
        base = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
        root = base + "/root"
        let layers = base + "/layers"
        try FileManager.default.createDirectory(atPath: layers, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try Self.mount(["-t", "tmpfs", "tmpfs", layers])
        try FileManager.default.createDirectory(atPath: layers + "/upper", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: layers + "/work", withIntermediateDirectories: true)
        // The root file system only: /dev, /proc, /tmp and the rest come fresh from nspawn.
        try Self.mount(["-t", "overlay", "overlay", "-o", "lowerdir=/,upperdir=\(layers)/upper,workdir=\(layers)/work", root])

        nspawn = try ChildProcess(
            which("systemd-nspawn")!,
            ["-D", root, "--register=no", "--keep-unit", "--quiet", "--machine=goedge-test-\(getpid())", "-b",
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
            Self.stop(nspawn: nspawn, leader: nil, base: base)
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
            Self.stop(nspawn: nspawn, leader: leader, base: base)
            throw TestFailure("the container's systemd did not come up: \(attempt.map { "\($0)" } ?? "")")
        }
    }

    deinit {
        Self.stop(nspawn: nspawn, leader: leader, base: base)
    }

    /// Powers the container off, or failing that kills its init (which ends
    /// every process in its PID namespace), then removes its file systems.
    private static func stop(nspawn: ChildProcess, leader: pid_t?, base: String) {
        if let leader {
            _ = try? ChildProcess.run(which("nsenter")!, ["-t", String(leader), "-a", "--", "systemctl", "poweroff"], timeout: .seconds(10))
        }
        if nspawn.waitForExit(timeout: .seconds(20)) == nil {
            if let leader { kill(leader, SIGKILL) }
            nspawn.kill()
        }
        cleanUp(base)
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
        let full = root + path
        try FileManager.default.createDirectory(
            atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: full, atomically: false, encoding: .utf8)
        chmod(full, mode_t(mode))
    }

    /// Copies a host file into the container.
    public func copy(_ source: String, to path: String) throws {
        let full = root + path
        try FileManager.default.createDirectory(
            atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try? FileManager.default.removeItem(atPath: full)
        try FileManager.default.copyItem(atPath: source, toPath: full)
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

    private static func mount(_ arguments: [String]) throws {
        let result = try ChildProcess.run("/bin/mount", arguments)
        guard result.status == 0 else { throw TestFailure("mount \(arguments): \(result)") }
    }

    private static func cleanUp(_ base: String) {
        _ = try? ChildProcess.run("/bin/umount", ["--lazy", base + "/root"])
        _ = try? ChildProcess.run("/bin/umount", ["--lazy", base + "/layers"])
        try? FileManager.default.removeItem(atPath: base)
    }
}
