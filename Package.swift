// swift-tools-version:6.0
import Foundation
import PackageDescription

// Kernels are compiled for the CPU that builds them (AVX-512 here doubles SIMD speed).
// DTRAIN_PORTABLE=1 builds for baseline x86-64 instead, for binaries that move between CPU kinds.
let portable = ProcessInfo.processInfo.environment["DTRAIN_PORTABLE"] == "1"
let optimized: [SwiftSetting] = portable ? [] : [.unsafeFlags(["-target-cpu", "native"])]

let package = Package(
    name: "dtrain",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "Engine", targets: ["Engine"]),
        .library(name: "NN", targets: ["NN"]),
        .executable(name: "dtrain-benchmark", targets: ["Benchmark"]),
    ],
    targets: [
        // System libraries (Debian: libopenblas-dev, libopenmpi-dev, libhdf5-dev) with their C shims.
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CMPI", pkgConfig: "ompi-c", providers: [.apt(["libopenmpi-dev"])]),
        .systemLibrary(name: "CHDF5", pkgConfig: "hdf5-serial", providers: [.apt(["libhdf5-dev"])]),

        .target(name: "Engine", dependencies: ["CBLAS"], swiftSettings: optimized),
        .target(name: "NN", dependencies: ["Engine"], swiftSettings: optimized),
        .executableTarget(name: "Benchmark", dependencies: ["Engine", "NN"], swiftSettings: optimized),

        .testTarget(name: "EngineTests", dependencies: ["Engine"], swiftSettings: optimized),
        .testTarget(name: "NNTests", dependencies: ["NN", "Engine"], swiftSettings: optimized),
        .testTarget(name: "SystemLibraryTests", dependencies: ["CBLAS", "CMPI", "CHDF5"]),
    ]
)
