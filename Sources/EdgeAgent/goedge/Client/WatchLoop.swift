import FolderWatch
import Prefetch

/// Runs a ``FolderWatcher`` on a thread of its own (it blocks in `poll`)
/// and hands its batches of changed folders over as a stream.
enum WatchLoop {
    enum Batch: Sendable {
        /// `rescanned`: events were lost and the folders scanned again, so
        /// `folders` are every workspace in them.
        case changed(_ folders: Set<String>, rescanned: Bool)
        /// Watching cannot go on (out of inotify watches, say).
        case failed(WatchError)
    }

    static func changes(of watcher: FolderWatcher) -> AsyncStream<Batch> {
        let (stream, continuation) = AsyncStream.makeStream(of: Batch.self)
        let box = WatcherBox(watcher)
        WatcherThread.start {
            do throws(WatchError) {
                while true {
                    let rescans = box.watcher.rescans
                    // A workspace whose go.sum already covers its go.mod is prefetched at
                    // once; one still being written waits for the save burst to end.
                    let folders = try box.watcher.nextChanges(startsAtOnce: { folder in
                        (try? WorkspaceReader.read([folder], from: "/"))?.looksComplete ?? false
                    })
                    continuation.yield(.changed(folders, rescanned: box.watcher.rescans != rescans))
                }
            } catch {
                continuation.yield(.failed(error))
                continuation.finish()
            }
        }
        return stream
    }
}

/// The watcher moves to its thread once and is used only there.
private final class WatcherBox: @unchecked Sendable {
    let watcher: FolderWatcher
    init(_ watcher: FolderWatcher) { self.watcher = watcher }
}
