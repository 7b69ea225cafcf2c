import Dispatch
import Logging
import ModulePolicy
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Keeps the module policy in force in step with its file: read again on
/// SIGHUP (`systemctl reload goedge`) and when the file changes (looked at
/// every two seconds, so that an edit or a configuration manager's rename
/// takes effect without a signal). A file with mistakes is refused whole:
/// the policy in force stays and the problems are logged. Connections and
/// downloads in flight are not touched; each request sees one policy.
final class PolicyReloader: Sendable {
    private let source: PolicySource?
    private let holder: PolicyHolder
    private let logger: Logger
    private let lastSeen: Mutex<FileStamp?>
    // Dispatch sources are thread-safe; kept only to be cancelled.
    private nonisolated(unsafe) var sources: [any DispatchSourceProtocol] = []

    /// What tells a changed file from the one read: a rename gives a new
    /// inode, an edit in place a new time or size.
    struct FileStamp: Equatable {
        var inode: UInt
        var size: Int
        var modified: timespec

        static func == (lhs: Self, rhs: Self) -> Bool {
            lhs.inode == rhs.inode && lhs.size == rhs.size && lhs.modified.tv_sec == rhs.modified.tv_sec
                && lhs.modified.tv_nsec == rhs.modified.tv_nsec
        }

        init?(path: String) {
            var status = stat()
            guard stat(path, &status) == 0 else { return nil }
            inode = UInt(status.st_ino)
            size = Int(status.st_size)
            modified = status.st_mtim
        }
    }

    /// Without a source, SIGHUP (`systemctl reload`) is only logged: it
    /// must not end the agent as it would by default.
    init(source: PolicySource?, holder: PolicyHolder, logger: Logger) {
        self.source = source
        self.holder = holder
        self.logger = logger
        self.lastSeen = Mutex(source.flatMap { FileStamp(path: $0.path) })
    }

    func start() {
        signal(SIGHUP, SIG_IGN)
        let hangUp = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        hangUp.setEventHandler { [self] in reload(because: "SIGHUP") }
        hangUp.resume()
        sources = [hangUp]
        guard let source else { return }
        let timer = DispatchSource.makeTimerSource(queue: .global())
        timer.schedule(deadline: .now() + .seconds(2), repeating: .seconds(2), leeway: .milliseconds(200))
        timer.setEventHandler { [self] in
            let stamp = FileStamp(path: source.path)
            let changed = lastSeen.withLock { seen in
                defer { seen = stamp }
                return stamp != nil && seen != stamp
            }
            if changed { reload(because: "the file changed") }
        }
        timer.resume()
        sources.append(timer)
    }

    func stop() {
        for source in sources { source.cancel() }
    }

    func reload(because reason: String) {
        guard let source else {
            logger.notice("\(reason): no policy-file to read again")
            return
        }
        lastSeen.withLock { $0 = FileStamp(path: source.path) }
        switch source.read() {
        case .success(let policy):
            holder.replace(with: policy)
            logger.notice(
                "policy read again",
                metadata: ["file": "\(source.path)", "why": "\(reason)", "deny": "\(policy.deny.count)", "allow": "\(policy.allow.count)"])
        case .failure(let problems):
            logger.error(
                "policy file refused: the policy in force stays",
                metadata: ["file": "\(source.path)", "problems": "\(problems)"])
        }
    }
}
