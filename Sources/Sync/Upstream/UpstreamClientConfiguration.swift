import Synchronization

/// How goedge talks to its upstreams.
public struct UpstreamClientConfiguration: Sendable {
    /// Giving up on connecting (DNS, TCP and TLS) after this long.
    public var connectTimeout: Duration
    /// A transfer that receives nothing for this long is abandoned; there is
    /// no overall time limit, since a large zip on a slow link may rightly
    /// take long.
    public var stallTimeout: Duration
    /// The netrc file with upstream credentials: `$NETRC` or, when unset,
    /// libcurl's default `~/.netrc` (the go command's own convention).
    public var netrcFile: String?
    public var userAgent: String
    /// Transfers the prefetcher may run at once; client requests are never
    /// queued behind them.
    public var backgroundConcurrency: Int
    /// Certificates to trust instead of the system's (goedge's commands
    /// reaching an agent that serves its own certificate); nil: the system's.
    public var trustedCertificatesFile: String?

    public init(
        connectTimeout: Duration = .seconds(10), stallTimeout: Duration = .seconds(30), netrcFile: String? = nil,
        userAgent: String = "goedge", backgroundConcurrency: Int = 8, trustedCertificatesFile: String? = nil
    ) {
        self.trustedCertificatesFile = trustedCertificatesFile
        self.connectTimeout = connectTimeout
        self.stallTimeout = stallTimeout
        self.netrcFile = netrcFile
        self.userAgent = userAgent
        self.backgroundConcurrency = backgroundConcurrency
    }
}

/// A transfer that produced no complete response.
public struct TransportError: Error, Sendable, CustomStringConvertible, Equatable {
    public enum Kind: Sendable, Equatable {
        /// DNS, connection refused or unreachable.
        case connect
        /// The TLS handshake failed: a certificate not trusted, or no common ground.
        case tls
        case timeout
        /// The connection ended before the whole body arrived.
        case truncated
        /// goedge stopped the transfer (the body was too large, or could not be stored).
        case refused
        case shutdown
        case other
    }

    public let kind: Kind
    /// libcurl's explanation, without credentials.
    public let message: String

    public init(kind: Kind, message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}

/// Where a response body goes as libcurl delivers it: memory for small
/// answers, a window a reader takes from (``Relay``), a file. A sink is
/// created on libcurl's thread and fed there.
public protocol ResponseBodySink: AnyObject, Sendable {
    /// Takes the next bytes of the body, or says to stop or wait.
    func receive(_ bytes: UnsafeRawBufferPointer) -> SinkVerdict
    /// Why the sink stopped the transfer, when it did.
    var refusal: String? { get }
    /// How a sink that paused the transfer (``SinkVerdict/pause``) has it go on.
    func onResume(_ resume: @escaping @Sendable () -> Void)
    /// The transfer ended: whole (nil) or failed (why).
    func transferEnded(failure: String?)
}

extension ResponseBodySink {
    public func onResume(_ resume: @escaping @Sendable () -> Void) {}
    public func transferEnded(failure: String?) {}
}

/// What a sink did with bytes it was offered.
public enum SinkVerdict: Sendable, Equatable {
    case accepted
    /// Stop the transfer (see ``ResponseBodySink/refusal``).
    case refused
    /// Not taken now: pause the transfer and offer them again once resumed.
    case pause
}

/// One request to an upstream.
public struct TransferRequest: Sendable {
    public enum Priority: Sendable { case client, background }

    public var url: String
    public var headers: [(name: String, value: String)]
    public var priority: Priority
    /// Set when a client comes to wait for this background transfer: a
    /// transfer still queued then moves to the client lane.
    public var promotion: Promotion?
    /// A POST body (the CLI talking to the agent); nil for a GET.
    public var body: [UInt8]?
    /// The method when it is not GET (or POST with `body`): `PUT` with `body` or `upload`.
    public var method: String?
    /// A PUT of this file's bytes, read as they are sent (a shared store's upload).
    public var upload: Upload?
    /// Sign the request with AWS Signature V4 (an S3-compatible store).
    public var signing: AWSSigning?
    /// A unix socket to connect through instead of TCP.
    public var unixSocketPath: String?
    /// Connect straight to the host whatever `http_proxy` and the like say
    /// (the CLI talking to the agent on this host).
    public var bypassesProxy: Bool
    /// Picks the sink for the final response's body once its head is known.
    public var chooseSink: @Sendable (ResponseHead) -> any ResponseBodySink

    public init(
        url: String, headers: [(name: String, value: String)] = [], priority: Priority = .client,
        promotion: Promotion? = nil, body: [UInt8]? = nil, unixSocketPath: String? = nil, bypassesProxy: Bool = false,
        chooseSink: @escaping @Sendable (ResponseHead) -> any ResponseBodySink
    ) {
        self.bypassesProxy = bypassesProxy
        self.url = url
        self.headers = headers
        self.priority = priority
        self.promotion = promotion
        self.body = body
        self.unixSocketPath = unixSocketPath
        self.chooseSink = chooseSink
    }
}

/// A file sent as a PUT body: `size` bytes read from an open descriptor.
public struct Upload: Sendable {
    public let descriptor: Int32
    public let size: Int64

    public init(descriptor: Int32, size: Int64) {
        self.descriptor = descriptor
        self.size = size
    }
}

/// AWS Signature V4, as libcurl makes it (`CURLOPT_AWS_SIGV4`): no AWS SDK.
public struct AWSSigning: Sendable {
    /// `aws:amz:REGION:s3`.
    public let provider: String
    /// `ACCESS_KEY:SECRET_KEY`: libcurl's user and password for signing, never sent as such.
    public let credentials: String
    public let sessionToken: String?

    public init(region: String, accessKey: String, secretKey: String, sessionToken: String?) {
        provider = "aws:amz:\(region):s3"
        credentials = accessKey + ":" + secretKey
        self.sessionToken = sessionToken
    }
}

/// Raised when a client waits for work that was started in the background.
public final class Promotion: Sendable {
    private let raised = Mutex(false)

    public init() {}

    public var isRaised: Bool { raised.withLock { $0 } }

    public func raise() { raised.withLock { $0 = true } }
}

/// What came of a ``TransferRequest``.
public struct TransferResult: Sendable {
    public enum Outcome: Sendable {
        /// A complete response; the body is in the sink.
        case response(ResponseHead, any ResponseBodySink)
        case failed(TransportError)
    }

    public var outcome: Outcome
    /// Time from the start of the transfer to its end.
    public var duration: Duration
}
