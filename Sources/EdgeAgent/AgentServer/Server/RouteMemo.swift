import NIOHTTP1
import Synchronization

/// Remembers the routes of recent proxy requests, so that a path asked for
/// again (what clients mostly do) skips decoding and validation.
///
/// ``RequestRouter/route(method:uri:)`` is a pure function, so a remembered
/// route is exactly what routing again would give. Only successful proxy
/// routes are kept, and the table is bounded by the bytes of the paths it
/// holds (a route's own strings are about as long again): when it would
/// outgrow them it is emptied, so memory stays bounded whatever paths
/// clients send, long ones included.
final class RouteMemo: Sendable {
    private struct Table {
        var routes: [String: Route] = [:]
        var pathBytes = 0
    }
    private let table = Mutex(Table())
    /// Bytes of remembered paths at most.
    let capacity: Int

    init(capacity: Int = 1 << 20) {
        self.capacity = capacity
    }

    /// Bytes of paths remembered now.
    var pathBytes: Int { table.withLock { $0.pathBytes } }

    /// The route (thrown as a typed error when refused: a `Result` of these
    /// was destroyed through the runtime's generic witnesses on every request).
    func route(method: HTTPMethod, uri: String) throws(RouteError) -> Route {
        if method == .GET || method == .HEAD, let known = table.withLock({ $0.routes[uri] }) {
            return known
        }
        let route: Route
        switch RequestRouter.route(method: method, uri: uri) {
        case .success(let found): route = found
        case .failure(let error): throw error
        }
        if case .proxy = route {
            let bytes = uri.utf8.count
            table.withLock { table in
                guard bytes <= capacity / 8 else { return }
                if table.pathBytes + bytes > capacity {
                    table.routes.removeAll(keepingCapacity: false)
                    table.pathBytes = 0
                }
                if table.routes.updateValue(route, forKey: uri) == nil { table.pathBytes += bytes }
            }
        }
        return route
    }
}
