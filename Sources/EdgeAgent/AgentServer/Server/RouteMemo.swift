import NIOHTTP1
import Synchronization

/// Remembers the routes of recent proxy requests, so that a path asked for
/// again (what clients mostly do) skips decoding and validation.
///
/// ``RequestRouter/route(method:uri:)`` is a pure function, so a remembered
/// route is exactly what routing again would give. Only successful proxy
/// routes are kept, and the table is emptied when it reaches its capacity:
/// bounded memory, whatever paths clients send.
final class RouteMemo: Sendable {
    private let routes = Mutex<[String: Route]>([:])
    private let capacity: Int

    init(capacity: Int = 8192) {
        self.capacity = capacity
    }

    func route(method: HTTPMethod, uri: String) -> Result<Route, RouteError> {
        if method == .GET || method == .HEAD, let known = routes.withLock({ $0[uri] }) {
            return .success(known)
        }
        let result = RequestRouter.route(method: method, uri: uri)
        if case .success(let route) = result, case .proxy = route {
            routes.withLock { routes in
                if routes.count >= capacity { routes.removeAll(keepingCapacity: true) }
                routes[uri] = route
            }
        }
        return result
    }
}
