import ModuleProxy
import ServiceLifecycle
import Upstream

/// Runs the proxy's background work (fetches others may join, read-ahead,
/// prefetch jobs, the index load) for as long as the agent runs. At
/// shutdown, after the server has drained its responses, the upstream
/// transfers still going are failed and what is left is cancelled.
struct BackgroundWorkService: Service, CustomStringConvertible {
    var description: String { "BackgroundWorkService" }

    let work: BackgroundWork
    let engine: CurlEngine

    func run() async throws {
        await withGracefulShutdownHandler {
            await work.run()
        } onGracefulShutdown: {
            engine.shutdown()
            work.finish()
        }
    }
}
