import Foundation
import NIOCore

/// How many processors goedge may run on: what `System.coreCount` says (it
/// honours cgroup quotas and cpusets), bounded by the process's CPU
/// affinity (`taskset`, systemd's `CPUAffinity=`), which it does not read.
/// One event loop per usable processor; more would only take turns.
enum UsableProcessors {
    static var count: Int {
        max(1, min(System.coreCount, affinityCount ?? .max))
    }

    /// Processors in the affinity mask (`Cpus_allowed` in /proc/self/status,
    /// hexadecimal words); nil when it cannot be read.
    static var affinityCount: Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        return affinityCount(status: status)
    }

    static func affinityCount(status: String) -> Int? {
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed:") }) else { return nil }
        var count = 0
        for character in line.dropFirst("Cpus_allowed:".count) where character != "," && !character.isWhitespace {
            guard let digit = character.hexDigitValue else { return nil }
            count += digit.nonzeroBitCount
        }
        return count > 0 ? count : nil
    }
}
