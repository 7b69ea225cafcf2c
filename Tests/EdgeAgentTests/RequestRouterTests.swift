import NIOHTTP1
import GoModules
import Upstream
import ModuleProxy
import Prefetch
import CacheAdmin
import Testing

@testable import AgentServer
@testable import goedge
@testable import GoedgeConfiguration

@Suite struct RequestRouterTests {
    private func route(_ uri: String, _ method: HTTPMethod = .GET) -> Result<Route, RouteError> {
        RequestRouter.route(method: method, uri: uri)
    }

    @Test func routesEveryProtocolEndpoint() throws {
        let module = try ModulePath("example.com/Upper/m")
        #expect(try route("/example.com/!upper/m/@v/list").get() == .proxy(ProxyRequest(.list(module))))
        #expect(try route("/example.com/%21upper/m/@latest").get() == .proxy(ProxyRequest(.latest(module))))
        #expect(try route("/example.com/!upper/m/@v/v1.5.3-%21p%21r%21e.info").get() == .proxy(ProxyRequest(.info(module, try ModuleVersion("v1.5.3-PRE")))))
        #expect(try route("/example.com/!upper/m/@v/v2.0.0+incompatible.mod").get() == .proxy(ProxyRequest(.mod(module, try ModuleVersion("v2.0.0+incompatible")))))
        #expect(try route("/example.com/!upper/m/@v/v1.0.0.zip", .HEAD).get() == .proxy(ProxyRequest(.zip(module, try ModuleVersion("v1.0.0")))))
        #expect(try route("/example.com/!upper/m/@v/master.info").get() == .proxy(ProxyRequest(.info(module, try ModuleVersion("master")))))
        #expect(try route("/example.com/!upper/m/@v/list?go-get=1").get() == .proxy(ProxyRequest(.list(module))))
        #expect(try route("/sumdb/sum.golang.org/lookup/example.com/!upper/m@v1.0.0").get() == .proxy(ProxyRequest(.sumdb(try #require(SumdbRequest(path: "sum.golang.org/lookup/example.com/!upper/m@v1.0.0"))))))
        #expect(try route("/-/metrics").get() == .agent(path: "metrics"))
    }

    @Test(arguments: [
        ("/example.com/m/@v/%zz.info", 400), ("/example.com/m/@v/%00.info", 400), ("/example.com/m/@v/%", 400),
        ("/example.com/m/@v/%ff%fe.info", 400), ("/example.com/../@v/list", 400), ("/../etc/passwd", 400),
        ("//etc/passwd", 400), ("/example.com/m//@v/list", 400), ("/example.com/m/@v/v1.0.0/x.info", 400),
        ("/example.com/M/@v/list", 400), ("/example.com/m/@v/latest.zip", 400), ("/example.com/m/@v/v1.0.mod", 400),
        ("/example.com/m/@v/v1.0.0.tar", 404), ("/example.com/m", 404), ("/sumdb/x.org/nothing", 404),
        ("example.com/m/@v/list", 400), ("/", 400),
        // Names nothing, as the go command's own proxies answer: not malformed.
        ("/rsc.io/quote/@v/", 404), ("/rsc.io/quote/", 404), ("/rsc.io/quote//", 400),
    ])
    func refusesMalformedRequests(uri: String, status: Int) {
        guard case .failure(let error) = route(uri) else {
            Issue.record("\(uri) was routed")
            return
        }
        #expect(error.status == status, "\(uri): \(error.message)")
    }

    @Test func refusesOtherMethodsAndLongPaths() {
        for method in [HTTPMethod.POST, .PUT, .DELETE, .OPTIONS, .PATCH] {
            guard case .failure(let error) = route("/example.com/m/@v/list", method) else {
                Issue.record("\(method) was routed")
                continue
            }
            #expect(error.status == 405 && error.allow == "GET, HEAD")
        }
        guard case .failure(let error) = route("/" + String(repeating: "a", count: 4096)) else {
            Issue.record("long path routed")
            return
        }
        #expect(error.status == 414)
    }
}

@Suite struct RouteMemoTests {
    /// However many long, distinct paths clients send, the memo holds a bounded number of bytes.
    @Test func isBoundedByBytes() {
        let memo = RouteMemo(capacity: 1 << 20)
        for index in 0..<2000 {
            let uri = "/example.com/" + String(repeating: "a", count: 3000) + "\(index)/@v/list"
            _ = try? memo.route(method: .GET, uri: uri)
            #expect(memo.pathBytes <= 1 << 20)
        }
        _ = try? memo.route(method: .GET, uri: "/example.com/m/@v/list")
        #expect(memo.pathBytes > 0)
    }
}

@Suite struct OptionParsingTests {
    @Test func sizes() {
        #expect(ByteSize(parsing: "10GiB")?.bytes == 10 << 30)
        #expect(ByteSize(parsing: "512MiB")?.bytes == 512 << 20)
        #expect(ByteSize(parsing: "1.5G")?.bytes == 3 << 29)
        #expect(ByteSize(parsing: "2 kB")?.bytes == 2000)
        #expect(ByteSize(parsing: "4096")?.bytes == 4096)
        for bad in ["", "-1GiB", "10 parsecs", "GiB", "1e3"] { #expect(ByteSize(parsing: bad) == nil, "\(bad)") }
        #expect(ByteSize.format(10 << 30) == "10GiB")
        #expect(ByteSize.format(1536 << 10) == "1.5MiB")
    }

    @Test func durations() {
        #expect(DurationText.parse("5m") == .seconds(300))
        #expect(DurationText.parse("1h30m") == .seconds(5400))
        #expect(DurationText.parse("250ms") == .milliseconds(250))
        #expect(DurationText.parse("1.5s") == .milliseconds(1500))
        #expect(DurationText.parse("0") == .zero)
        for bad in ["", "5", "5 minutes", "-1s", "m"] { #expect(DurationText.parse(bad) == nil, "\(bad)") }
        #expect(DurationText.format(.seconds(5400)) == "1h30m")
        #expect(DurationText.format(.milliseconds(250)) == "250ms")
    }

    @Test func listenAddresses() {
        #expect(ListenAddress(parsing: "127.0.0.1:7179")?.isLocalOnly == true)
        #expect(ListenAddress(parsing: "[::1]:7179")?.kind == .tcp(host: "::1", port: 7179))
        #expect(ListenAddress(parsing: "[::1]:7179")?.isLocalOnly == true)
        #expect(ListenAddress(parsing: "localhost:80")?.isLocalOnly == true)
        #expect(ListenAddress(parsing: "0.0.0.0:7179")?.isLocalOnly == false)
        #expect(ListenAddress(parsing: "[::]:7179")?.isLocalOnly == false)
        #expect(ListenAddress(parsing: "unix:/run/goedge.sock")?.kind == .unix(path: "/run/goedge.sock"))
        for bad in ["7179", "host:", ":7179", "host:99999", "unix:"] { #expect(ListenAddress(parsing: bad) == nil, "\(bad)") }
    }

    @Test func cacheFolderDefaults() {
        #expect(AgentConfiguration.defaultCacheDirectory(environment: ["CACHE_DIRECTORY": "/var/cache/goedge:/other", "HOME": "/h"]) == "/var/cache/goedge")
        #expect(AgentConfiguration.defaultCacheDirectory(environment: ["XDG_CACHE_HOME": "/x", "HOME": "/h"]) == "/x/goedge")
        #expect(AgentConfiguration.defaultCacheDirectory(environment: ["XDG_CACHE_HOME": "relative", "HOME": "/h"]) == "/h/.cache/goedge")
        #expect(AgentConfiguration.defaultCacheDirectory(environment: ["HOME": "/h"]) == "/h/.cache/goedge")
    }
}
