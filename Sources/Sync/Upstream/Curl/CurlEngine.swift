import CCurl
import LRUCache
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Runs every upstream transfer on one thread with libcurl's multi
/// interface: connections (and HTTP/2 streams) are reused across requests,
/// and the waiting tasks are resumed as transfers finish.
///
/// Client transfers start at once. Background transfers (prefetch and
/// read-ahead) wait in a queue of their own and run at most
/// ``UpstreamClientConfiguration/backgroundConcurrency`` at a time, so that
/// they never delay a client.
public final class CurlEngine: Sendable {
    private struct Queues {
        var transfers: TransferQueues<CurlTransfer>
        /// Paused transfers whose reader has room again.
        var resumed: [CurlTransfer] = []
        var stopping = false
    }

    private struct Multi: @unchecked Sendable {
        let handle: UnsafeMutableRawPointer
    }

    public let configuration: UpstreamClientConfiguration
    /// Made on first use: initializing libcurl (and OpenSSL with it) costs
    /// milliseconds that a socket-activated start answering from the cache
    /// should not spend.
    private let running = Mutex<(multi: Multi, thread: pthread_t)?>(nil)
    private let queues: Mutex<Queues>

    public init(configuration: UpstreamClientConfiguration) {
        self.configuration = configuration
        queues = Mutex(Queues(transfers: TransferQueues(backgroundLimit: configuration.backgroundConcurrency)))
    }

    private func multiHandle() -> Multi {
        running.withLock { running in
            if let running { return running.multi }
            let multi = Multi(handle: goedge_curl_multi_init()!)
            let box = Unmanaged.passRetained(self).toOpaque()
            var thread = pthread_t()
            pthread_create(&thread, nil, { context in
                let engine = Unmanaged<CurlEngine>.fromOpaque(context!).takeRetainedValue()
                engine.run()
                return nil
            }, box)
            running = (multi, thread)
            return multi
        }
    }

    /// Performs one GET; never throws: transport failures are a result too.
    public func perform(_ request: TransferRequest) async -> TransferResult {
        // libcurl is loaded by the first transfer (see CCurl's shim.h), not at start.
        if let problem = goedge_curl_load() {
            return TransferResult(outcome: .failed(TransportError(kind: .other, message: String(cString: problem))), duration: .zero)
        }
        let ended = Settlement<TransferResult>()
        let transfer = CurlTransfer(request: request, ended: ended)
        transfer.resume = { [weak self] transfer in self?.resume(transfer) }
        let accepted = queues.withLock { queues in
            guard !queues.stopping else { return false }
            queues.transfers.enqueue(transfer, background: request.priority == .background)
            return true
        }
        if accepted {
            // The first transfer starts the engine; its loop picks up what is queued.
            goedge_curl_multi_wakeup(multiHandle().handle)
        } else {
            transfer.fail(TransportError(kind: .shutdown, message: "goedge is shutting down"))
        }
        return await ended.value
    }

    /// Asks for a paused transfer to go on, from any thread.
    private func resume(_ transfer: CurlTransfer) {
        queues.withLock { $0.resumed.append(transfer) }
        wakeUp()
    }

    /// Makes the engine look at its queues again (after a promotion).
    public func wakeUp() {
        guard let multi = running.withLock({ $0?.multi }) else { return }
        goedge_curl_multi_wakeup(multi.handle)
    }

    /// Fails queued and running transfers and stops the thread.
    public func shutdown() {
        queues.withLock { $0.stopping = true }
        guard let started = running.withLock({ $0 }) else { return }
        goedge_curl_multi_wakeup(started.multi.handle)
        pthread_join(started.thread, nil)
        running.withLock { $0 = nil }
    }

    /// Gives up on transfers that received nothing for the stall timeout
    /// (libcurl's own low-speed check averages over several seconds).
    private func abandonStalled(_ active: inout [UnsafeMutableRawPointer: CurlTransfer], multi: Multi) {
        let limit = configuration.stallTimeout
        let now = ContinuousClock.now
        for (handle, transfer) in active where now - transfer.lastProgress > limit {
            active.removeValue(forKey: handle)
            goedge_curl_multi_remove_handle(multi.handle, handle)
            ended(transfer)
            transfer.fail(TransportError(kind: .timeout, message: "no data from upstream for \(limit)"))
        }
    }

    /// Balances the background count for a transfer that left the engine.
    private func ended(_ transfer: CurlTransfer) {
        if transfer.request.priority == .background {
            queues.withLock { $0.transfers.backgroundEnded() }
        }
    }

    private func run() {
        let multi = running.withLock { $0!.multi }
        var active: [UnsafeMutableRawPointer: CurlTransfer] = [:]
        while true {
            let (admitted, resumed, stopping) = queues.withLock { queues in
                defer { queues.resumed.removeAll() }
                return (queues.transfers.admit { $0.request.promotion?.isRaised == true }, queues.resumed, queues.stopping)
            }
            for transfer in resumed where active[transfer.handle] === transfer {
                transfer.continueAfterPause()
            }
            if stopping {
                let queued = queues.withLock { $0.transfers.drain() }
                for transfer in Array(active.values) + admitted + queued {
                    goedge_curl_multi_remove_handle(multi.handle, transfer.handle)
                    transfer.fail(TransportError(kind: .shutdown, message: "goedge is shutting down"))
                }
                goedge_curl_multi_cleanup(multi.handle)
                return
            }
            for transfer in admitted {
                transfer.configure(configuration)
                let added = goedge_curl_multi_add_handle(multi.handle, transfer.handle)
                guard added == CURLM_OK else {
                    ended(transfer)
                    let reason = String(cString: goedge_curl_multi_strerror(added))
                    transfer.fail(TransportError(kind: .other, message: "libcurl refused the transfer: \(reason)"))
                    continue
                }
                active[transfer.handle] = transfer
            }

            var running: Int32 = 0
            goedge_curl_multi_perform(multi.handle, &running)
            var remaining: Int32 = 0
            while let message = goedge_curl_multi_info_read(multi.handle, &remaining) {
                guard message.pointee.msg == CURLMSG_DONE, let handle = message.pointee.easy_handle,
                    let transfer = active.removeValue(forKey: handle)
                else { continue }
                let code = goedge_curl_msg_result(message)
                goedge_curl_multi_remove_handle(multi.handle, handle)
                ended(transfer)
                transfer.finish(code)
            }
            abandonStalled(&active, multi: multi)
            goedge_curl_multi_poll(multi.handle, 250)
        }
    }
}
