import Foundation
import Testing
import TestSupport

extension Integration {
    /// The .deb: built by packaging/build-deb, lintian-clean, and installed
    /// for real into a throw-away Debian root, where it must work without a
    /// Swift toolchain, serve the go command, and purge without a trace.
    @Suite struct DebianPackage {
        /// Builds the package into `folder` (a release build of its own; quick when .ci/run or the quickstart built it already).
        static func build(into folder: TemporaryDirectory) throws -> String {
            let result = try ChildProcess.run(
                Paths.packageRoot + "/packaging/build-deb", [folder.path], timeout: .seconds(1500))
            guard result.status == 0, let deb = result.output.split(separator: "\n").last.map(String.init),
                FileManager.default.fileExists(atPath: deb)
            else { throw TestFailure("packaging/build-deb failed:\n\(result)") }
            return deb
        }

        static var canRun: Bool { SystemdContainer.isAvailable && which("dpkg-deb") != nil && which("dpkg-shlibdeps") != nil }

        /// What the package left in the root: paths with "goedge" in them.
        static func leftovers(_ root: OverlayRoot) -> [String] {
            root.changedPaths().filter { $0.contains("goedge") }
        }

        @Test(.enabled(if: canRun, "needs root, systemd-nspawn and dpkg-dev"))
        func installsServesAndPurgesWithoutATrace() throws {
            let folder = TemporaryDirectory()
            let deb = try Self.build(into: folder)
            if let lintian = which("lintian") {
                // lintian leaves its ELF cache (mldbm-elf-*) in TMPDIR: give it ours.
                var environment = ProcessInfo.processInfo.environment
                environment["TMPDIR"] = folder.path
                let report = try ChildProcess.run(
                    lintian, ["--fail-on", "error,warning", deb], environment: environment, timeout: .seconds(600))
                #expect(report.status == 0, "lintian: \(report.output)")
            }
            let control = try ChildProcess.run("/usr/bin/dpkg-deb", ["--field", deb, "Depends"])
            for library in ["libc6", "libcurl4", "libsystemd0"] { #expect(control.output.contains(library), "\(control.output)") }
            let contents = try ChildProcess.run("/usr/bin/dpkg-deb", ["--contents", deb]).output
            for file in [
                "./usr/bin/goedge", "./lib/systemd/system/goedge.socket", "./lib/systemd/system/goedge.service",
                "./usr/lib/systemd/user/goedge-watch.service", "./etc/goedge/goedge.toml", "./usr/share/man/man1/goedge.1.gz",
                "./usr/share/man/man5/goedge.toml.5.gz", "./usr/share/doc/goedge/copyright", "./usr/share/doc/goedge/changelog.gz",
            ] {
                #expect(contents.contains(file), "the package lacks \(file)")
            }

            let upstream = try GoProxyFixture()
            let port = try SocketActivation.freePort()
            let container = try SystemdContainer { root in
                // No Swift toolchain where the package is installed.
                try root.remove("/opt/swift")
                // A booted Debian host, not an image build: this machine's image carries
                // Docker's policy-rc.d, which tells maintainer scripts not to start services.
                if FileManager.default.fileExists(atPath: root.path + "/usr/sbin/policy-rc.d") {
                    try root.remove("/usr/sbin/policy-rc.d")
                }
                // This run's port and upstream, in place before the package starts anything.
                try root.write("/etc/systemd/system/goedge.socket.d/test.conf", "[Socket]\nListenStream=\nListenStream=127.0.0.1:\(port)\n")
                try root.write("/etc/systemd/system/goedge.service.d/test.conf", "[Service]\nEnvironment=GOEDGE_UPSTREAM=\(upstream.url)\n")
                try root.copy(deb, to: "/var/tmp/goedge.deb")
            }
            let install = try container.run(["dpkg", "-i", "/var/tmp/goedge.deb"])
            #expect(install.status == 0, "\(install)")
            #expect(try container.run(["goedge", "--version"]).output.trimmingCharacters(in: .whitespacesAndNewlines) == "0.1.0")
            let libraries = try container.run(["ldd", "/usr/bin/goedge"]).output
            #expect(!libraries.contains("swift") && !libraries.contains("not found"), "\(libraries)")
            #expect(try container.run(["systemctl", "is-enabled", "goedge.socket"]).output.hasPrefix("enabled"))
            #expect(try container.run(["systemctl", "is-active", "goedge.socket"]).output.hasPrefix("active"))
            #expect(try container.run(["goedge", "config", "--check", "/etc/goedge/goedge.toml"]).status == 0)
            #expect(try container.run(["man", "-w", "goedge.toml"]).output.contains("/usr/share/man/man5/goedge.toml.5.gz"))

            // The installed service, started by its socket, serves the go command.
            let workspace = TemporaryDirectory()
            try workspace.write("app/go.mod", "module example.com/app\n\ngo 1.17\n")
            let go = GoCommand(proxy: "http://127.0.0.1:\(port)", sumdb: upstream.sumdbKey, home: workspace.path + "/home")
            let download = try go.run(["mod", "download", "example.com/hello@v1.3.0"], in: workspace.path + "/app")
            #expect(download.status == 0, "\(download)")
            let service = try container.properties("goedge.service", ["ActiveState", "ExecMainPID"])
            #expect(service["ActiveState"] == "active")
            let executable = try container.run(["readlink", "/proc/\(service["ExecMainPID"] ?? "0")/exe"]).output
            #expect(executable.hasPrefix("/usr/bin/goedge"), "\(executable)")
            #expect(try container.run(["test", "-d", "/var/cache/private/goedge/data"]).status == 0)

            let purge = try container.run(["dpkg", "--purge", "goedge"])
            #expect(purge.status == 0, "\(purge)")
            #expect(try container.run(["systemctl", "is-active", "goedge.socket"]).output.hasPrefix("inactive"))
            for dropIn in ["/etc/systemd/system/goedge.socket.d", "/etc/systemd/system/goedge.service.d", "/var/tmp/goedge.deb"] {
                try container.overlay.remove(dropIn)
            }
            #expect(Self.leftovers(container.overlay).isEmpty, "left behind: \(Self.leftovers(container.overlay))")
        }

        @Test(.enabled(if: canRun, "needs root and dpkg-dev"))
        func theMaintainerScriptsWorkWithoutSystemdRunning() throws {
            let folder = TemporaryDirectory()
            let deb = try Self.build(into: folder)
            let root = try OverlayRoot()
            try root.remove("/opt/swift")
            try root.copy(deb, to: "/var/tmp/goedge.deb")
            let install = try root.chroot(["dpkg", "-i", "/var/tmp/goedge.deb"])
            #expect(install.status == 0, "\(install)")
            // Enabled for the next boot (an absolute link, so look at the link itself), nothing started.
            let link = try? FileManager.default.destinationOfSymbolicLink(
                atPath: root.path + "/etc/systemd/system/sockets.target.wants/goedge.socket")
            #expect(link == "/lib/systemd/system/goedge.socket")
            #expect(try root.chroot(["goedge", "--version"]).status == 0)
            let remove = try root.chroot(["dpkg", "--remove", "goedge"])
            #expect(remove.status == 0, "\(remove)")
            #expect(FileManager.default.fileExists(atPath: root.path + "/etc/goedge/goedge.toml"), "remove keeps the conffile")
            let purge = try root.chroot(["dpkg", "--purge", "goedge"])
            #expect(purge.status == 0, "\(purge)")
            try root.remove("/var/tmp/goedge.deb")
            #expect(Self.leftovers(root).isEmpty, "left behind: \(Self.leftovers(root))")
        }
    }
}
