import LRUCache

#if canImport(Glibc)
import Glibc
#endif

/// Watches folder trees for go.mod, go.work and go.sum files being saved,
/// with inotify, and tells which folders had one saved.
///
/// Every folder below the roots is watched (new ones as they appear), except
/// `.git`, `vendor`, `node_modules` and the paths given to skip (the cache
/// folder). A file counts as saved when it is closed after writing (saved in
/// place) or renamed into place (saved by rename, as most editors and git
/// do). Bursts are folded: ``nextChanges(quietPeriod:maximumDelay:startsAtOnce:)``
/// returns once saves stopped for a moment, or at once when every folder
/// saved in looks finished (its go.sum already covers its go.mod). When the kernel's event queue overflowed
/// and events were lost, the trees are scanned again and every workspace
/// folder in them counts as changed.
///
/// Blocks in `poll` between events: no CPU while nothing changes. Used from
/// one thread.
public final class FolderWatcher {
    /// The files whose saving means the module graph may have changed.
    public static let workspaceFileNames: Set<String> = ["go.mod", "go.work", "go.sum", "go.work.sum"]
    /// Folders never watched: nothing in them is a workspace to prefetch for.
    public static let skippedNames: Set<String> = [".git", "vendor", "node_modules"]

    private static let folderEvents = UInt32(
        IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_DONT_FOLLOW | IN_EXCL_UNLINK)

    public let roots: [String]
    private let skippedPaths: Set<String>
    private let inotify: Inotify
    /// The folder of each watch.
    private var folders: [Int32: String] = [:]

    /// Folders watched now.
    public var watchedFolderCount: Int { folders.count }
    /// Times the kernel's queue overflowed and the trees were scanned again.
    public private(set) var rescans = 0

    /// Starts watching `roots` (absolute folders), recursively.
    public init(roots: [String], skipping skippedPaths: [String] = []) throws(WatchError) {
        self.roots = roots.map(Self.normalized)
        self.skippedPaths = Set(skippedPaths.map(Self.normalized))
        for root in self.roots {
            var status = stat()
            guard stat(root, &status) == 0 else {
                throw WatchError("cannot watch \(root): \(String(cString: strerror(errno)))")
            }
            guard status.st_mode & S_IFMT == S_IFDIR else { throw WatchError("cannot watch \(root): not a folder") }
        }
        inotify = try Inotify()
        for root in self.roots {
            _ = try watchTree(root)
        }
    }

    /// Blocks until workspace files were saved and then nothing more for
    /// `quietPeriod` (or `maximumDelay` passed since the first save), and
    /// returns the folders they were saved in. When `startsAtOnce` says of
    /// every folder saved in that what it holds is finished, it returns
    /// without waiting for the quiet: a save that is complete need not wait
    /// to be sure (what follows in the same burst comes in the next call).
    public func nextChanges(
        quietPeriod: Duration = .milliseconds(300), maximumDelay: Duration = .seconds(3),
        startsAtOnce: (String) -> Bool = { _ in false }
    ) throws(WatchError) -> Set<String> {
        let clock = ContinuousClock()
        var changed: Set<String> = []
        var firstChange: ContinuousClock.Instant?
        while true {
            var timeout: Duration?
            if let firstChange {
                timeout = min(quietPeriod, maximumDelay - (clock.now - firstChange))
                if timeout! <= .zero { return changed }
            }
            let events = try inotify.read(timeout: timeout)
            if events.isEmpty {
                if firstChange != nil { return changed }
                continue
            }
            for event in events {
                try handle(event, changed: &changed)
            }
            if !changed.isEmpty && changed.allSatisfy(startsAtOnce) { return changed }
            if firstChange == nil && !changed.isEmpty { firstChange = clock.now }
        }
    }

    private func handle(_ event: Inotify.Event, changed: inout Set<String>) throws(WatchError) {
        if event.has(IN_Q_OVERFLOW) {
            // Events were lost: look at everything again.
            rescans += 1
            for root in roots {
                changed.formUnion(try watchTree(root))
            }
            return
        }
        if event.has(IN_IGNORED) {
            folders.removeValue(forKey: event.watch)
            return
        }
        guard let folder = folders[event.watch], !event.name.isEmpty else { return }
        let path = folder == "/" ? "/" + event.name : folder + "/" + event.name
        if event.has(IN_ISDIR) {
            // A new folder (created, or moved in): watch it, and look at what it already holds.
            if event.has(IN_CREATE) || event.has(IN_MOVED_TO), !isSkipped(name: event.name, path: path) {
                changed.formUnion(try watchTree(path))
            }
        } else if event.has(IN_CLOSE_WRITE) || event.has(IN_MOVED_TO), Self.workspaceFileNames.contains(event.name) {
            changed.insert(folder)
        }
    }

    /// Watches `top` and every folder below it not skipped; returns the
    /// folders holding workspace files.
    private func watchTree(_ top: String) throws(WatchError) -> Set<String> {
        var withFiles: Set<String> = []
        var pending = [top]
        while let folder = pending.popLast() {
            // Watched before it is listed, so nothing saved meanwhile is missed.
            guard let watch = try inotify.add(folder, mask: Self.folderEvents) else { continue }
            folders[watch] = folder
            guard let entries = try? FileSystem.list(folder) else { continue }
            for (name, isDirectory) in entries {
                let path = folder == "/" ? "/" + name : folder + "/" + name
                var status = stat()
                if isDirectory ?? (lstat(path, &status) == 0 && status.st_mode & S_IFMT == S_IFDIR) {
                    if !isSkipped(name: name, path: path) { pending.append(path) }
                } else if Self.workspaceFileNames.contains(name) {
                    withFiles.insert(folder)
                }
            }
        }
        return withFiles
    }

    private func isSkipped(name: String, path: String) -> Bool {
        Self.skippedNames.contains(name) || skippedPaths.contains(path)
    }

    private static func normalized(_ path: String) -> String {
        var path = path
        while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        return path
    }
}
