import Foundation
import Testing
import TestSupport

extension Integration {
    /// `goedge watch` with real inotify: saving a go.mod, by rename or in
    /// place, gets everything the next build needs onto this host.
    @Suite struct Watch {
        /// Starts `goedge watch` on `folders` and waits until it watches.
        static func start(
            agent: AgentProcess, _ folders: [String], wrapper: [String] = [], extraEnvironment: [String: String] = [:]
        ) throws -> ChildProcess {
            var environment = ProcessInfo.processInfo.environment
            environment.removeValue(forKey: "JOURNAL_STREAM")
            environment.merge(extraEnvironment) { $1 }
            let command = [Paths.goedge, "watch", "--config", "/dev/null", "--agent", agent.url] + folders
            let watch = try ChildProcess(
                wrapper.first ?? command[0], Array((wrapper.isEmpty ? command.dropFirst() : wrapper.dropFirst() + command)),
                environment: environment)
            _ = try watch.waitForLine(containing: "watching", inErrorOutput: true)
            return watch
        }

        /// Waits (bounded) until the watcher has logged `count` prefetches of `folder`.
        static func waitForPrefetches(_ watch: ChildProcess, of folder: String, count: Int) -> Bool {
            eventually(timeout: .seconds(30)) {
                watch.errorOutput.components(separatedBy: "prefetched \(folder): ").count - 1 >= count
            }
        }

        /// Saves like an editor that writes a new file and renames it over the old one.
        static func saveByRename(_ text: String, to path: String) throws {
            try text.write(toFile: path + ".tmp~", atomically: false, encoding: .utf8)
            guard rename(path + ".tmp~", path) == 0 else { throw TestFailure("rename: \(errno)") }
        }

        /// Saves like an editor that truncates and rewrites the file.
        static func saveInPlace(_ text: String, to path: String) throws {
            // open(2) with O_TRUNC, as an editor writing in place does: one
            // IN_CLOSE_WRITE for the file, whether or not it existed.
            let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
            let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
            try handle.write(contentsOf: Data(text.utf8))
            try handle.close()
        }

        static let helloOnly = "module example.org/app\n\ngo 1.19\n\nrequire example.com/hello v1.3.0\n"

        @Test func savingAGoModPrefetchesWhatTheNextBuildNeeds() throws {
            let upstream = try GoProxyFixture()
            let cache = TemporaryDirectory()
            let agent = try AgentProcess(upstream: upstream.url, cacheDirectory: cache.path, arguments: ["--no-read-ahead"])
            let root = TemporaryDirectory()
            let watch = try Self.start(agent: agent, [root.path])

            // A workspace made after the watch began: its new folders are watched too.
            let app = root.path + "/src/app"
            let watches = watch.inotifyWatchCount
            try FileManager.default.createDirectory(atPath: app, withIntermediateDirectories: true)
            try Prefetch.main.write(toFile: app + "/main.go", atomically: false, encoding: .utf8)
            #expect(eventually { watch.inotifyWatchCount == watches + 2 })
            try Self.saveByRename(Self.helloOnly, to: app + "/go.mod")
            #expect(Self.waitForPrefetches(watch, of: app, count: 1), "\(watch.errorOutput)")

            // Then a requirement added in place.
            try Self.saveInPlace(Prefetch.goMod, to: app + "/go.mod")
            #expect(Self.waitForPrefetches(watch, of: app, count: 2), "\(watch.errorOutput)")

            upstream.stop()
            let workspace = TemporaryDirectory()
            try workspace.write("go.mod", Prefetch.goMod)
            try workspace.write("main.go", Prefetch.main)
            let built = try Prefetch.build(workspace, through: agent)
            #expect(built.status == 0, "\(built)\n\(watch.errorOutput)")

            watch.signal(SIGTERM)
            #expect(watch.waitForExit() != nil)
            #expect(agent.terminate() == 0)
        }

        @Test func aHalfSavedGoModIsReportedOnceAndTriedAgainOnTheNextSave() throws {
            let upstream = try GoProxyFixture()
            let cache = TemporaryDirectory()
            let agent = try AgentProcess(upstream: upstream.url, cacheDirectory: cache.path)
            let root = TemporaryDirectory()
            try root.write("app/main.go", Prefetch.main)
            let watch = try Self.start(agent: agent, [root.path])
            let goMod = root.path + "/app/go.mod"

            let half = "module example.org/app\n\ngo 1.19\n\nrequire (\n\texample.com/hello v1.3.0\n"
            try Self.saveInPlace(half, to: goMod)
            #expect(eventually { watch.errorOutput.contains("\(goMod):6: unterminated block") }, "\(watch.errorOutput)")
            try Self.saveByRename(half, to: goMod)
            // The fixed file saved after it: once it is prefetched, the second broken save was seen too.
            try Self.saveByRename(Self.helloOnly, to: goMod)
            #expect(Self.waitForPrefetches(watch, of: root.path + "/app", count: 1), "\(watch.errorOutput)")
            #expect(watch.errorOutput.components(separatedBy: "unterminated block").count == 2, "\(watch.errorOutput)")
            #expect(watch.isRunning)
            watch.kill()
            #expect(agent.terminate() == 0)
        }

        /// Events lost to a full kernel queue (the watcher stopped while
        /// thousands of files are written): the folders are scanned again, and
        /// the go.mod saved after the queue was full is prefetched all the same.
        @Test func anOverflowedQueueIsRescanned() throws {
            let limit = try #require(Int(try String(contentsOfFile: "/proc/sys/fs/inotify/max_queued_events", encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines)))
            try #require(limit <= 1 << 17, "fs.inotify.max_queued_events is too large to overflow quickly")
            let upstream = try GoProxyFixture()
            let cache = TemporaryDirectory()
            let agent = try AgentProcess(upstream: upstream.url, cacheDirectory: cache.path)
            let root = TemporaryDirectory()
            try root.write("app/main.go", Prefetch.main)
            try FileManager.default.createDirectory(atPath: root.path + "/noise", withIntermediateDirectories: true)
            let watch = try Self.start(agent: agent, [root.path])

            watch.signal(SIGSTOP)
            // Each file is two events (created, closed after writing).
            for index in 0..<(limit / 2 + 64) {
                let fd = open(root.path + "/noise/\(index)", O_WRONLY | O_CREAT, 0o644)
                #expect(fd >= 0)
                close(fd)
            }
            try Self.saveByRename(Self.helloOnly, to: root.path + "/app/go.mod")
            watch.signal(SIGCONT)

            #expect(Self.waitForPrefetches(watch, of: root.path + "/app", count: 1), "\(watch.errorOutput)")
            #expect(watch.errorOutput.contains("events were lost"), "\(watch.errorOutput)")
            watch.kill()
            #expect(agent.terminate() == 0)
        }

        /// .git, vendor and node_modules are not watched; the cache folder neither.
        @Test func skippedFoldersTriggerNothing() throws {
            let upstream = try GoProxyFixture()
            let cache = TemporaryDirectory()
            let agent = try AgentProcess(upstream: upstream.url, cacheDirectory: cache.path)
            let root = TemporaryDirectory()
            for folder in [".git/x", "vendor/example.com/x", "node_modules/x"] {
                try FileManager.default.createDirectory(atPath: root.path + "/" + folder, withIntermediateDirectories: true)
            }
            let watch = try Self.start(agent: agent, [root.path])
            for folder in [".git/x", "vendor/example.com/x", "node_modules/x"] {
                try Self.saveByRename(Self.helloOnly, to: root.path + "/" + folder + "/go.mod")
            }
            // Only the root is watched; then the new folder beside the skipped ones.
            #expect(watch.inotifyWatchCount == 1)
            try FileManager.default.createDirectory(atPath: root.path + "/real", withIntermediateDirectories: true)
            #expect(eventually { watch.inotifyWatchCount == 2 })
            try Self.saveByRename(Self.helloOnly, to: root.path + "/real/go.mod")
            #expect(Self.waitForPrefetches(watch, of: root.path + "/real", count: 1), "\(watch.errorOutput)")
            #expect(watch.errorOutput.components(separatedBy: "prefetched ").count == 2, "\(watch.errorOutput)")
            watch.kill()
            #expect(agent.terminate() == 0)
        }

        /// In a user namespace of its own the watch limit can be lowered without touching the host's.
        @Test(.enabled(if: which("unshare") != nil, "needs unshare"))
        func runningOutOfWatchesNamesTheSysctl() throws {
            let root = TemporaryDirectory()
            for index in 0..<20 {
                try FileManager.default.createDirectory(atPath: root.path + "/d\(index)", withIntermediateDirectories: true)
            }
            let result = try ChildProcess.run(
                which("unshare")!,
                [
                    "--user", "--map-root-user", "sh", "-c",
                    "echo 5 > /proc/sys/user/max_inotify_watches && exec \"$0\" watch --config /dev/null "
                        + "--agent http://127.0.0.1:1 \"$1\"",
                    Paths.goedge, root.path,
                ],
                environment: ["PATH": "/usr/bin:/bin", "HOME": root.path])
            #expect(result.status == 1, "\(result)")
            #expect(result.errorOutput.contains("out of inotify watches (fs.inotify.max_user_watches is 5)"), "\(result)")
            #expect(result.errorOutput.contains("sysctl fs.inotify.max_user_watches="), "\(result)")
        }

        @Test func watchNeedsFolders() throws {
            let result = try ChildProcess.run(Paths.goedge, ["watch", "--config", "/dev/null"])
            #expect(result.status != 0)
            #expect(result.errorOutput.contains("name the folders to watch"), "\(result)")
            let missing = try ChildProcess.run(Paths.goedge, ["watch", "--config", "/dev/null", "/nonexistent/folder"])
            #expect(missing.status == 1)
            #expect(missing.errorOutput.contains("cannot watch /nonexistent/folder"), "\(missing)")
        }
    }
}
