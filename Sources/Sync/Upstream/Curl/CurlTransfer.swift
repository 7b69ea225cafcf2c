import CCurl
import LRUCache
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// One HTTP GET on a libcurl easy handle: its options, the callbacks that
/// collect the head and feed the body sink, and the result it settles.
/// Lives on the engine's thread from ``configure(_:)`` to ``finish(_:)``.
final class CurlTransfer: @unchecked Sendable {
    let request: TransferRequest
    let handle: UnsafeMutableRawPointer
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
    private var parser = ResponseHeadParser()
    /// Bytes of an upload sent so far (libcurl's thread only).
    private var uploaded: Int64 = 0
    private var sink: (any ResponseBodySink)?
    private let ended: Settlement<TransferResult>
    private let started = ContinuousClock.now
    /// When the last header or body bytes arrived (or the transfer started).
    private(set) var lastProgress = ContinuousClock.now

    /// Transfers alive now: a test's way to see that none is kept once it ended.
    package static let alive = Atomic<Int>(0)

    init(request: TransferRequest, ended: Settlement<TransferResult>) {
        Self.alive.add(1, ordering: .relaxed)
        self.request = request
        self.ended = ended
        self.handle = goedge_curl_easy_init()
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    }

    deinit {
        Self.alive.subtract(1, ordering: .relaxed)
        goedge_curl_easy_cleanup(handle)
        goedge_curl_slist_free_all(headerList)
        errorBuffer.deallocate()
    }

    func configure(_ configuration: UpstreamClientConfiguration) {
        set(CURLOPT_URL, request.url)
        set(CURLOPT_NOSIGNAL, 1)
        if let body = request.body {
            // libcurl copies the body (COPYPOSTFIELDS), so its storage need not outlive this call.
            set(CURLOPT_POSTFIELDSIZE, body.count)
            _ = body.withUnsafeBytes { goedge_curl_easy_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: $0.baseAddress)) }
        } else if let upload = request.upload {
            set(CURLOPT_UPLOAD, 1)
            goedge_curl_easy_setopt_off_t(handle, CURLOPT_INFILESIZE_LARGE, curl_off_t(upload.size))
            goedge_curl_easy_setopt_pointer(handle, CURLOPT_READDATA, Unmanaged.passUnretained(self).toOpaque())
            goedge_curl_easy_setopt_read_callback(handle, CURLOPT_READFUNCTION) { buffer, size, count, context in
                let transfer = Unmanaged<CurlTransfer>.fromOpaque(context!).takeUnretainedValue()
                guard let upload = transfer.request.upload else { return goedge_curl_readfunc_abort() }
                let read = pread(upload.descriptor, buffer, size * count, off_t(transfer.uploaded))
                guard read >= 0 else { return goedge_curl_readfunc_abort() }
                transfer.uploaded += Int64(read)
                return read
            }
        } else {
            set(CURLOPT_HTTPGET, 1)
        }
        if let method = request.method { set(CURLOPT_CUSTOMREQUEST, method) }
        if let signing = request.signing {
            set(CURLOPT_AWS_SIGV4, signing.provider)
            set(CURLOPT_USERPWD, signing.credentials)
        }
        if let socket = request.unixSocketPath { set(CURLOPT_UNIX_SOCKET_PATH, socket) }
        if request.bypassesProxy { set(CURLOPT_NOPROXY, "*") }
        set(CURLOPT_PROTOCOLS_STR, "http,https")
        // Redirects are followed here, resolved against the upstream's URL,
        // never handed to the client; credentials are not sent to other hosts.
        set(CURLOPT_FOLLOWLOCATION, 1)
        set(CURLOPT_MAXREDIRS, 10)
        set(CURLOPT_REDIR_PROTOCOLS_STR, "http,https")
        // A signed request carries its own credentials: none from .netrc beside them.
        if request.signing == nil {
            set(CURLOPT_NETRC, goedge_curl_netrc_optional())
            if let netrc = configuration.netrcFile { set(CURLOPT_NETRC_FILE, netrc) }
        }
        if let trusted = configuration.trustedCertificatesFile { set(CURLOPT_CAINFO, trusted) }
        set(CURLOPT_CONNECTTIMEOUT_MS, Int(configuration.connectTimeout.milliseconds))
        set(CURLOPT_USERAGENT, configuration.userAgent)
        // Over TLS, prefer waiting for a multiplexed HTTP/2 stream over
        // opening another connection: ALPN says within the handshake whether
        // one is coming. A plain http:// upstream speaks HTTP/1.1, and there
        // libcurl would learn that only from the first response: every
        // transfer started meanwhile would wait a whole round trip for it.
        if request.url.utf8.starts(with: "https:".utf8) { set(CURLOPT_PIPEWAIT, 1) }
        set(CURLOPT_BUFFERSIZE, 256 * 1024)
        goedge_curl_easy_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer)

        for header in request.headers {
            headerList = goedge_curl_slist_append(headerList, "\(header.name): \(header.value)")
        }
        if let headerList { goedge_curl_easy_setopt_slist(handle, CURLOPT_HTTPHEADER, headerList) }

        let context = Unmanaged.passUnretained(self).toOpaque()
        goedge_curl_easy_setopt_pointer(handle, CURLOPT_HEADERDATA, context)
        goedge_curl_easy_setopt_write_callback(handle, CURLOPT_HEADERFUNCTION) { data, size, count, context in
            let transfer = Unmanaged<CurlTransfer>.fromOpaque(context!).takeUnretainedValue()
            let length = size * count
            transfer.lastProgress = .now
            let line = UnsafeRawBufferPointer(start: data, count: length)
            transfer.parser.consume(line: Substring(decoding: line, as: UTF8.self))
            // A head that cannot be used ends the transfer (CURLE_WRITE_ERROR).
            return transfer.parser.malformed == nil ? length : 0
        }
        goedge_curl_easy_setopt_pointer(handle, CURLOPT_WRITEDATA, context)
        goedge_curl_easy_setopt_write_callback(handle, CURLOPT_WRITEFUNCTION) { data, size, count, context in
            let transfer = Unmanaged<CurlTransfer>.fromOpaque(context!).takeUnretainedValue()
            let length = size * count
            transfer.lastProgress = .now
            switch transfer.currentSink().receive(UnsafeRawBufferPointer(start: data, count: length)) {
            case .accepted: return length
            case .refused: return 0
            // libcurl offers the same bytes again once the engine resumes the transfer.
            case .pause: return goedge_curl_writefunc_pause()
            }
        }
    }

    private func currentSink() -> any ResponseBodySink {
        if let sink { return sink }
        let chosen = request.chooseSink(parser.head ?? ResponseHead(status: 0, reason: ""))
        sink = chosen
        // Weakly: the transfer holds the sink, and a sink holding its
        // transfer back would keep both alive for good.
        if let resume {
            chosen.onResume { [weak self] in
                if let self { resume(self) }
            }
        }
        return chosen
    }

    /// How a paused transfer asks the engine to go on (set by the engine).
    var resume: (@Sendable (CurlTransfer) -> Void)?

    /// Continues a paused transfer (on the engine's thread); the pause counts as progress.
    func continueAfterPause() {
        lastProgress = .now
        _ = goedge_curl_resume(handle)
    }

    /// Resumes the waiting task with the result of the transfer.
    func finish(_ code: CURLcode) {
        guard code == CURLE_OK else {
            let detail = String(cString: errorBuffer)
            let message = detail.isEmpty ? String(cString: goedge_curl_easy_strerror(code)) : detail
            let kind: TransportError.Kind
            switch code {
            case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY, CURLE_COULDNT_CONNECT:
                kind = .connect
            case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE:
                kind = .tls
            case CURLE_OPERATION_TIMEDOUT: kind = .timeout
            case CURLE_PARTIAL_FILE, CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_GOT_NOTHING, CURLE_HTTP2, CURLE_HTTP2_STREAM:
                kind = .truncated
            case CURLE_WRITE_ERROR: kind = .refused
            default: kind = .other
            }
            let refusal = kind == .refused ? parser.malformed ?? sink?.refusal : nil
            fail(TransportError(kind: kind, message: URLRedaction.redact(refusal ?? message)))
            return
        }
        guard let head = parser.head else {
            fail(TransportError(kind: .other, message: "the upstream sent no usable response head"))
            return
        }
        let sink = currentSink()
        resume(.response(head, sink))
    }

    func fail(_ error: TransportError) {
        resume(.failed(error))
    }

    private func resume(_ outcome: TransferResult.Outcome) {
        // A body's readers learn how it ended.
        switch outcome {
        case .response: sink?.transferEnded(failure: nil)
        case .failed(let error): sink?.transferEnded(failure: error.message)
        }
        let result = TransferResult(outcome: outcome, duration: ContinuousClock.now - started)
        ended.settle(result)
    }

    private func set(_ option: CURLoption, _ value: Int) {
        goedge_curl_easy_setopt_long(handle, option, value)
    }

    private func set(_ option: CURLoption, _ value: String) {
        // libcurl copies string options.
        goedge_curl_easy_setopt_string(handle, option, value)
    }
}

extension Duration {
    var milliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }
}
