import AgentServer

/// Every setting goedge takes, in the order `goedge config` shows them.
/// The man pages (goedge(1) for options, goedge.toml(5) for keys) are
/// checked against this list by the tests.
package enum Settings {
    package static let listen = Setting(
        name: "listen", kind: .listen, defaultText: "127.0.0.1:7179",
        summary: "Address the agent listens on: HOST:PORT, [IPv6]:PORT or unix:PATH (ignored under socket activation).")
    package static let allowRemote = Setting(
        name: "allow-remote", kind: .boolean, defaultText: "false",
        summary: "Allow listening on an address other hosts can reach (anything but loopback).")
    package static let upstream = Setting(
        name: "upstream", kind: .upstream, defaultText: "https://proxy.golang.org",
        summary: "Upstream proxies in GOPROXY syntax: ',' moves on after 404/410, '|' after any error; direct or off end the list (goedge answers 404).")
    package static let cacheDir = Setting(
        name: "cache-dir", kind: .path, defaultText: "$CACHE_DIRECTORY, else $XDG_CACHE_HOME/goedge, else ~/.cache/goedge",
        summary: "The cache folder.")
    package static let maxCacheSize = Setting(
        name: "max-cache-size", kind: .size(minimum: 64 << 10), defaultText: "10GiB",
        summary: "Disk space the cache may use, all counted (at least 64KiB).")
    package static let metadataTTL = Setting(
        name: "metadata-ttl", kind: .duration(allowZero: true), defaultText: "5m",
        summary: "How long list, @latest and query .info answers are served before they are revalidated.")
    package static let notFoundTTL = Setting(
        name: "not-found-ttl", kind: .duration(allowZero: true), defaultText: "1m",
        summary: "How long 404 and 410 answers are remembered.")
    package static let sumdbTTL = Setting(
        name: "sumdb-ttl", kind: .duration(allowZero: true), defaultText: "1m",
        summary: "How long checksum database latest and supported answers are kept.")
    package static let connectTimeout = Setting(
        name: "connect-timeout", kind: .duration(allowZero: false), defaultText: "10s",
        summary: "Time allowed to connect to an upstream.")
    package static let stallTimeout = Setting(
        name: "stall-timeout", kind: .duration(allowZero: false), defaultText: "30s",
        summary: "An upstream transfer that receives nothing for this long is abandoned.")
    package static let shutdownTimeout = Setting(
        name: "shutdown-timeout", kind: .duration(allowZero: true), defaultText: "10s",
        summary: "On SIGTERM or SIGINT, how long responses in flight may take to finish.")
    package static let idleTimeout = Setting(
        name: "idle-timeout", kind: .duration(allowZero: true), defaultText: "5m when socket-activated, else 0",
        summary: "Exit after this long with no connection, download or prefetch; 0 never exits.")
    package static let requestHeadTimeout = Setting(
        name: "request-head-timeout", kind: .duration(allowZero: false), defaultText: "20s",
        summary: "Time a client has to send a whole request head after connecting (or after its first byte), and the longest pause inside a request body; then the connection is closed (408). Also the longest a client may take none of an answer's bytes before its connection is closed.")
    package static let requestTimeout = Setting(
        name: "request-timeout", kind: .duration(allowZero: false), defaultText: "10m",
        summary: "Longest wait for an answer to a request; beyond it the client gets 504 with the reason instead of silence.")
    package static let maxConnections = Setting(
        name: "max-connections", kind: .count, defaultText: "2048",
        summary: "Connections served at once; more are answered 503 and closed.")
    package static let readAhead = Setting(
        name: "read-ahead", kind: .boolean, defaultText: "true",
        summary: "On a miss, fetch what the go command will ask for next (the version's other files, the go.mod files of its requirements) before it asks.")
    package static let prefetchConcurrency = Setting(
        name: "prefetch-concurrency", kind: .count, defaultText: "32",
        summary:
            "Background downloads (prefetch and read-ahead) at once: connections to an HTTP/1.1 upstream, streams on one connection to an HTTP/2 one; client requests never wait behind them.")
    package static let agent = Setting(
        name: "agent", kind: .url, defaultText: "the listen address (https:// with tls-certificate)",
        summary: "The agent goedge prefetch and goedge watch send work to: http://HOST:PORT, https://HOST:PORT or unix:PATH.")
    package static let watchFolders = Setting(
        name: "watch-folders", kind: .folders, defaultText: "none",
        summary: "Folders goedge watch watches when none are named on its command line (colon-separated in GOEDGE_WATCH_FOLDERS).")
    package static let controlHosts = Setting(
        name: "control-hosts", kind: .hosts, defaultText: "127.0.0.1,::1",
        summary: "Addresses or networks allowed to use the control API and prefetch (goedge status, cache, prefetch, watch); comma-separated on the command line. Connections over a unix socket are always allowed.")
    package static let clientHosts = Setting(
        name: "client-hosts", kind: .hosts, defaultText: "anyone who can connect",
        summary: "Addresses or networks allowed to use the module protocol (set it when listening beyond loopback with allow-remote); others are answered 403 before anything is read. Comma-separated on the command line. Connections over a unix socket are always allowed.")
    package static let clientCredentialsFile = Setting(
        name: "client-credentials-file", kind: .optionalPath, defaultText: "none",
        summary: "A file of user:token lines: module requests must then carry one of them as HTTP Basic credentials (the go command sends them from .netrc or the GOPROXY URL), else 401. Keep it readable by goedge only.")
    package static let policyFile = Setting(
        name: "policy-file", kind: .optionalPath, defaultText: "none",
        summary: "The module policy (goedge-policy(5)): which modules and versions may be fetched. Read again on SIGHUP and when it changes; a file with mistakes is refused whole and the policy in force stays.")
    package static let tlsCertificate = Setting(
        name: "tls-certificate", kind: .optionalPath, defaultText: "none",
        summary: "A PEM certificate chain (the server's certificate first): TCP listeners then speak HTTPS, which the go command needs to send credentials. Give tls-key with it; the unix socket stays plain.")
    package static let tlsKey = Setting(
        name: "tls-key", kind: .optionalPath, defaultText: "none",
        summary: "The PEM private key of tls-certificate. Keep it readable by goedge only.")
    package static let policyVulndb = Setting(
        name: "policy-vulndb", kind: .optionalPath, defaultText: "none",
        summary: "A local copy of the Go vulnerability database (its OSV layout, as vuln.go.dev serves it): versions it lists as affected are denied (or, with the policy file's vuln-action = \"warn\", served with a warning). Read again on SIGHUP and when its index changes; the policy file may name one instead (vulndb), not both.")
    package static let checksumDatabase = Setting(
        name: "checksum-database", kind: .checksumDatabase, defaultText: "sum.golang.org",
        summary: "The checksum database that vouches for module hashes and dates releases for min-release-age, in GOSUMDB's syntax: sum.golang.org, NAME+HASH+KEY, either with its own URL after a space (else it is read through the upstream list, as the go command reads it through a proxy), or off. Its tree heads and records are verified against its key.")
    package static let noChecksumDatabase = Setting(
        name: "no-checksum-database", kind: .modulePatterns, defaultText: "none",
        summary: "Module paths the checksum database does not cover, in GONOSUMDB's syntax (comma-separated globs matching path prefixes): private modules. min-release-age dates their versions by when goedge first saw them.")
    package static let sharedStore = Setting(
        name: "shared-store", kind: .optionalPath, defaultText: "none",
        summary: "A fleet's shared store, s3://BUCKET/PREFIX in an S3-compatible object store (AWS S3, GCS, R2, Ceph, MinIO): asked before the upstreams for .mod, .zip and .info files, checked like them and against the checksum database, and written behind. Needs shared-store-endpoint and credentials.")
    package static let sharedStoreEndpoint = Setting(
        name: "shared-store-endpoint", kind: .text, defaultText: "none",
        summary: "The object store's address: https://s3.eu-west-1.amazonaws.com, http://ceph-rgw.internal:7480.")
    package static let sharedStoreRegion = Setting(
        name: "shared-store-region", kind: .text, defaultText: "us-east-1",
        summary: "The region requests are signed for (AWS Signature V4).")
    package static let sharedStorePathStyle = Setting(
        name: "shared-store-path-style", kind: .boolean, defaultText: "true",
        summary: "Address objects as ENDPOINT/BUCKET/KEY (true; what Ceph, MinIO and most others take) or BUCKET.ENDPOINT/KEY (false).")
    package static let sharedStoreMode = Setting(
        name: "shared-store-mode", kind: .choice(["read-write", "read"]), defaultText: "read-write",
        summary: "read-write, or read for runners that must not write the fleet's store (jobs of forks, untrusted branches).")
    package static let sharedStoreCredentialsFile = Setting(
        name: "shared-store-credentials-file", kind: .optionalPath, defaultText: "none (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)",
        summary: "A file of AWS_ACCESS_KEY_ID=, AWS_SECRET_ACCESS_KEY= and AWS_SESSION_TOKEN= lines (or an ~/.aws/credentials file) for the shared store; for systemd's LoadCredential=. Without it the AWS_* variables are read. Keep it readable by goedge only.")
    package static let logLevel = Setting(
        name: "log-level", kind: .logLevel, defaultText: "info",
        summary: "trace, debug, info (one line per request), notice, warning, error or critical.")

    package static let logFormat = Setting(
        name: "log-format", kind: .logFormat, defaultText: "text",
        summary: "text (one line per event), or json: one JSON object a line, an access line's module, version, kind, cache outcome, client and user as fields. Under systemd the journal gets these fields either way.")

    package static let all: [Setting] = [
        listen, allowRemote, upstream, cacheDir, maxCacheSize, metadataTTL, notFoundTTL, sumdbTTL, connectTimeout,
        stallTimeout, shutdownTimeout, idleTimeout, requestHeadTimeout, requestTimeout, maxConnections, readAhead, prefetchConcurrency, controlHosts, clientHosts, clientCredentialsFile, tlsCertificate, tlsKey, policyFile, policyVulndb, checksumDatabase, noChecksumDatabase, sharedStore, sharedStoreEndpoint, sharedStoreRegion, sharedStorePathStyle,
        sharedStoreMode, sharedStoreCredentialsFile, agent, watchFolders, logLevel, logFormat,
    ]

    package static func named(_ name: String) -> Setting? {
        all.first { $0.name == name }
    }
}
