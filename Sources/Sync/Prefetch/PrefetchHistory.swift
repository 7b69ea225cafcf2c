#if canImport(Glibc)
import Glibc
import GoModules
import ModuleProxy
#endif

/// One finished prefetch, for `goedge status`.
public struct PrefetchRecord: Codable, Sendable, Equatable {
    /// Seconds since 1970 when it finished.
    public var finishedAt: Int64
    /// The folders of the workspace files it was given.
    public var folders: [String]
    public var summary: PrefetchSummary

    init(files: WorkspaceFiles, summary: PrefetchSummary) {
        finishedAt = Int64(time(nil))
        var folders: [String] = []
        for file in files.files where !folders.contains(file.folder) { folders.append(file.folder) }
        self.folders = folders
        self.summary = summary
    }
}

/// The last prefetches, and the folders `goedge watch` last reported watching.
public struct PrefetchHistory: Codable, Sendable, Equatable {
    public static let kept = 10
    /// Newest first.
    public private(set) var prefetches: [PrefetchRecord] = []
    public private(set) var watchedFolders: [String]?
    /// Seconds since 1970 when `goedge watch` last sent work.
    public private(set) var watcherSeenAt: Int64?

    init() {}

    mutating func add(_ record: PrefetchRecord, watchedFolders: [String]?) {
        prefetches.insert(record, at: 0)
        if prefetches.count > Self.kept { prefetches.removeLast(prefetches.count - Self.kept) }
        if let watchedFolders {
            self.watchedFolders = watchedFolders
            watcherSeenAt = record.finishedAt
        }
    }
}
