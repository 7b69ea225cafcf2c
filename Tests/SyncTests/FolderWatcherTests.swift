import Foundation
import Testing
import TestSupport

@testable import FolderWatch

/// How the watcher folds a burst of saves.
@Suite struct FolderWatcherTests {
    /// Saved by rename into a new folder of the watched tree.
    private func save(_ root: TemporaryDirectory, _ name: String) throws {
        try root.write("app/.\(name).tmp", "module example.org/app\n")
        #expect(rename(root.path + "/app/.\(name).tmp", root.path + "/app/" + name) == 0)
    }

    /// A save the caller calls finished is handed over at once: with a quiet
    /// period of 20 s, only `startsAtOnce` can make it return sooner.
    @Test func aFinishedSaveIsHandedOverWithoutWaitingForQuiet() throws {
        let root = TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: root.path + "/app", withIntermediateDirectories: true)
        let watcher = try FolderWatcher(roots: [root.path])
        try save(root, "go.sum")
        var asked: [String] = []
        let started = ContinuousClock.now
        let folders = try watcher.nextChanges(quietPeriod: .seconds(20), maximumDelay: .seconds(20)) { folder in
            asked.append(folder)
            return true
        }
        #expect(folders == [root.path + "/app"])
        #expect(asked == [root.path + "/app"])
        #expect(ContinuousClock.now - started < .seconds(10))
    }

    /// An unfinished one waits for the burst to end, and what came meanwhile
    /// is handed over with it.
    @Test func anUnfinishedSaveWaitsForTheBurstToEnd() throws {
        let root = TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: root.path + "/app", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root.path + "/other", withIntermediateDirectories: true)
        let watcher = try FolderWatcher(roots: [root.path])
        try save(root, "go.mod")
        try root.write("other/go.mod", "module example.org/other\n")
        let folders = try watcher.nextChanges(quietPeriod: .milliseconds(200), maximumDelay: .seconds(20)) { _ in false }
        #expect(folders == [root.path + "/app", root.path + "/other"])
    }
}
