import GoModules
import Upstream
import ModuleProxy
import Prefetch
import CacheAdmin


/// What a request asked for, as the metrics count it.
enum RequestKind: String, CaseIterable, Sendable {
    case list, info, mod, zip, latest, sumdb, agent, other

    /// The kind of a routed proxy request.
    init(_ resource: ProxyResource) {
        switch resource {
        case .list: self = .list
        case .latest: self = .latest
        case .info: self = .info
        case .mod: self = .mod
        case .zip: self = .zip
        case .sumdb: self = .sumdb
        }
    }

    /// The kind of a request that was not routed (refused), by the end of its
    /// path, without parsing it again.
    init(uri: String) {
        let path = uri.utf8.prefix { $0 != UInt8(ascii: "?") }
        func ends(_ suffix: StaticString) -> Bool {
            let suffixBytes = UnsafeBufferPointer(start: suffix.utf8Start, count: suffix.utf8CodeUnitCount)
            return path.count >= suffixBytes.count && path.suffix(suffixBytes.count).elementsEqual(suffixBytes)
        }
        func starts(_ prefix: StaticString) -> Bool {
            let prefixBytes = UnsafeBufferPointer(start: prefix.utf8Start, count: prefix.utf8CodeUnitCount)
            return path.starts(with: prefixBytes)
        }
        if starts("/-/") {
            self = .agent
        } else if starts("/sumdb/") {
            self = .sumdb
        } else if ends(".zip") {
            self = .zip
        } else if ends(".mod") {
            self = .mod
        } else if ends(".info") {
            self = .info
        } else if ends("/@v/list") {
            self = .list
        } else if ends("/@latest") {
            self = .latest
        } else {
            self = .other
        }
    }
}
