// swift-tools-version:6.0
import PackageDescription

// goedge: a per-host edge cache for Go modules.
//
// Three folders, each a set of targets with one concern apiece; every
// dependency points downwards (a target names only targets listed above it):
//
//   Sources/LRUCache          LRUCache      the size-bounded disk store
//   Sources/Sync/…            GoModules     Go's own formats and rules, no I/O beyond reading files
//                             ChecksumDatabase  the checksum database's keys, signed notes, tiles and proofs
//                             Upstream      the upstream list and chain over the system libcurl
//                             SharedStore   a fleet's S3-compatible bucket: read through, written behind
//                             ModulePolicy  which modules and versions may be fetched, and why not
//                             ModuleProxy   the caching GOPROXY logic: cache, single flight, freshness, read-ahead
//                             Prefetch      warming the cache for a workspace
//                             CacheAdmin    list, remove, prune, verify, import
//                             FolderWatch   inotify and the recursive folder watcher
//   Sources/EdgeAgent/…       AgentServer   the HTTP server, the control plane, systemd, metrics, logs
//                             GoedgeConfiguration  goedge.toml, GOEDGE_* and options, checked, into settings
//                             goedge        the executable: commands and the client side
//
// Each dependency is pinned to the version the tests last ran with (the
// README says how to move them forward); Package.resolved stays out of git.
let package = Package(
    name: "goedge",
    products: [
        .executable(name: "goedge", targets: ["goedge"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", exact: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", exact: "1.35.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", exact: "2.37.6"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", exact: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", exact: "2.13.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation.git", exact: "0.9.20"),
        .package(url: "https://github.com/apple/swift-crypto.git", exact: "3.12.3"),
        .package(url: "https://github.com/apple/swift-metrics.git", exact: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", exact: "2.4.1"),
    ],
    targets: [
        // libcurl's headers, and a loader: goedge opens libcurl on first use (include/shim.h).
        .target(
            name: "CCurl",
            path: "Sources/CCurl"
        ),
        .systemLibrary(
            name: "CSystemd",
            pkgConfig: "libsystemd",
            providers: [.apt(["libsystemd-dev"])]
        ),
        // link.h: the dynamic loader's list of loaded objects, for trimming resident code.
        .systemLibrary(
            name: "CDynamicLinker"
        ),
        // preadv2 with RWF_NOWAIT: reading what the page cache holds without waiting for the disk.
        .systemLibrary(
            name: "CFileRead"
        ),
        .systemLibrary(
            name: "CInflate",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        .target(
            name: "LRUCache",
            dependencies: [
                "CFileRead",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio")
            ]
        ),
        .target(
            name: "GoModules",
            dependencies: [
                "CInflate",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Sources/Sync/GoModules"
        ),
        .target(
            name: "ChecksumDatabase",
            dependencies: [
                "GoModules",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Sources/Sync/ChecksumDatabase"
        ),
        .target(
            name: "Upstream",
            dependencies: [
                "CCurl", "LRUCache",
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            path: "Sources/Sync/Upstream"
        ),
        .target(
            name: "SharedStore",
            dependencies: [
                "Upstream", "LRUCache",
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            path: "Sources/Sync/SharedStore"
        ),
        .target(
            name: "ModulePolicy",
            dependencies: ["GoModules"],
            path: "Sources/Sync/ModulePolicy"
        ),
        .target(
            name: "ModuleProxy",
            dependencies: [
                "LRUCache", "GoModules", "ChecksumDatabase", "Upstream", "SharedStore", "ModulePolicy",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            path: "Sources/Sync/ModuleProxy"
        ),
        .target(
            name: "Prefetch",
            dependencies: [
                "ModuleProxy", "ChecksumDatabase", "GoModules", "LRUCache",
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            path: "Sources/Sync/Prefetch"
        ),
        .target(
            name: "CacheAdmin",
            dependencies: ["ModuleProxy", "ChecksumDatabase", "ModulePolicy", "GoModules", "LRUCache"],
            path: "Sources/Sync/CacheAdmin"
        ),
        .target(
            name: "FolderWatch",
            dependencies: ["LRUCache"],
            path: "Sources/Sync/FolderWatch"
        ),
        .target(
            name: "AgentServer",
            dependencies: [
                "LRUCache", "GoModules", "ChecksumDatabase", "Upstream", "SharedStore", "ModulePolicy", "ModuleProxy", "Prefetch", "CacheAdmin",
                "CSystemd",
                "CDynamicLinker",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Sources/EdgeAgent/AgentServer"
        ),
        .target(
            name: "GoedgeConfiguration",
            dependencies: [
                "AgentServer", "ChecksumDatabase", "SharedStore", "ModuleProxy", "ModulePolicy", "Upstream", "LRUCache",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/EdgeAgent/Configuration"
        ),
        .executableTarget(
            name: "goedge",
            dependencies: [
                "GoedgeConfiguration", "AgentServer", "Prefetch", "CacheAdmin", "FolderWatch", "ModuleProxy", "ModulePolicy",
                "SharedStore", "ChecksumDatabase", "Upstream", "GoModules", "LRUCache",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/EdgeAgent/goedge"
        ),
        // Every parser of outside input as a libFuzzer target (scripts/fuzz); built
        // plainly, it replays the corpora kept under Tests/Fuzz/Corpus.
        .executableTarget(
            name: "goedge-fuzz",
            dependencies: [
                "AgentServer", "GoModules", "GoedgeConfiguration", "ModuleProxy", "ModulePolicy", "ChecksumDatabase", "Upstream",
                "SharedStore", "Prefetch",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Tests/Fuzz",
            exclude: ["Corpus"]
        ),
        // Shared by the test targets: the Go fixtures, process and HTTP helpers.
        .target(
            name: "TestSupport",
            path: "Tests/TestSupport"
        ),
        // A scripted upstream and a clock that moves when told: the proxy's logic, in-process.
        .target(
            name: "ProxyTestSupport",
            dependencies: [
                "ModuleProxy", "ChecksumDatabase", "Upstream", "SharedStore", "LRUCache", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Tests/ProxyTestSupport"
        ),
        .testTarget(
            name: "LRUCacheTests",
            dependencies: ["LRUCache", "TestSupport"]
        ),
        .testTarget(
            name: "SyncTests",
            dependencies: [
                "GoModules", "ChecksumDatabase", "Upstream", "SharedStore", "ModulePolicy", "ModuleProxy", "Prefetch", "CacheAdmin",
                "FolderWatch", "LRUCache", "TestSupport", "ProxyTestSupport", .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ]
        ),
        .testTarget(
            name: "EdgeAgentTests",
            dependencies: [
                "goedge", "GoedgeConfiguration", "AgentServer", "ModulePolicy", "ModuleProxy", "Upstream", "GoModules", "LRUCache", "TestSupport", "ProxyTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
    ]
)
