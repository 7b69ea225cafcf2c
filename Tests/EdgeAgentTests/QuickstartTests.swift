import Foundation
import Testing
import TestSupport

extension Integration {
    /// The README's first command, as a newcomer runs it: it returns, with
    /// goedge answering on 127.0.0.1:7179 and on PATH; run again, it is
    /// quick and leaves one agent running.
    @Suite struct Quickstart {
        static var portIsFree: Bool { (try? RawHTTP.connect(port: 7179, timeout: .seconds(1))).map { close($0); return false } ?? true }

        @Test(.enabled(if: getuid() == 0 && portIsFree, "as root (it links /usr/local/bin/goedge), with port 7179 free"))
        func theFirstCommandStartsGoedgeAndReturns() throws {
            let home = TemporaryDirectory()
            // SwiftPM keeps lock files in the temporary folder: this test's own, removed with it.
            try FileManager.default.createDirectory(atPath: home.path + "/tmp", withIntermediateDirectories: true)
            let environment = [
                "PATH": "/usr/local/bin:/usr/bin:/bin:/opt/swift/usr/bin", "HOME": home.path, "XDG_CONFIG_HOME": home.path + "/.config",
                "TMPDIR": home.path + "/tmp",
            ]
            for round in 1...2 {
                let run = try ChildProcess.run(
                    Paths.packageRoot + "/scripts/quickstart", [], environment: environment, timeout: .seconds(1500))
                #expect(run.status == 0, "round \(round): \(run)")
                #expect(run.output.contains("export GOPROXY=http://127.0.0.1:7179,direct"), "\(run.output)")
                #expect(try RawHTTP.get(port: 7179, "/-/healthz").status == 200)
            }
            let onPath = try ChildProcess.run("/bin/bash", ["-c", "command -v goedge && goedge --version"], environment: environment)
            #expect(onPath.status == 0 && onPath.output.contains("/usr/local/bin/goedge"), "\(onPath)")
            // The printed way to stop it works.
            let pidFile = home.path + "/.local/state/goedge/goedge.pid"
            let pid = try #require(Int32(try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
            kill(pid, SIGTERM)
            #expect(eventually { (try? RawHTTP.connect(port: 7179, timeout: .seconds(1))).map { close($0); return false } ?? true })
        }
    }
}
