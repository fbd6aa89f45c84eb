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
        .executable(name: "dtrain", targets: ["dtrain"]),
        .executable(name: "dtrain-benchmark", targets: ["Benchmark"]),
        .library(name: "Engine", targets: ["Engine"]),
        .library(name: "NN", targets: ["NN"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        // System libraries (Debian: libopenblas-dev, libopenmpi-dev, libhdf5-dev, zlib1g-dev, libturbojpeg0-dev,
        // libpng-dev) with their C shims.
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CMPI", pkgConfig: "ompi-c", providers: [.apt(["libopenmpi-dev"])]),
        .systemLibrary(name: "CHDF5", pkgConfig: "hdf5-serial", providers: [.apt(["libhdf5-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CTurboJPEG", pkgConfig: "libturbojpeg", providers: [.apt(["libturbojpeg0-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        // The compiler's cache hints (prefetches, streaming stores), which Swift cannot spell.
        .systemLibrary(name: "CCacheHints"),

        .target(name: "Engine", dependencies: ["CBLAS", "CCacheHints"], swiftSettings: optimized),
        .target(name: "NN", dependencies: ["Engine"], swiftSettings: optimized),
        .target(name: "HDF5", dependencies: ["CHDF5"]),
        .target(name: "Comm", dependencies: ["CMPI"]),
        .target(name: "Data", dependencies: ["Engine", "HDF5", "CZlib", "CTurboJPEG", "CPNG"], swiftSettings: optimized),
        // TensorBoard event files; the Swift code of its .proto is generated once and committed (no build plugin).
        .target(name: "TensorBoard", dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")],
                exclude: ["tensorboard_event.proto"]),
        .target(name: "Trainer", dependencies: ["Engine", "NN", "Data", "Comm", "HDF5", "TensorBoard", "TOMLKit"],
                swiftSettings: optimized),
        .executableTarget(name: "dtrain", dependencies: [
            "Trainer", "Data", "Comm", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: optimized),
        .executableTarget(name: "Benchmark", dependencies: ["Engine", "NN"], swiftSettings: optimized),
        // Run under mpirun by the multi-rank tests.
        .executableTarget(name: "dtrain-comm-check", dependencies: ["Comm"], path: "Tests/CommCheck"),
        // Killed at random moments by the checkpoint tests while it writes checkpoints.
        .executableTarget(name: "dtrain-checkpoint-writer", dependencies: ["Trainer", "NN"],
                          path: "Tests/CheckpointWriter"),

        .testTarget(name: "EngineTests", dependencies: ["Engine"], swiftSettings: optimized),
        // Comm for synchronised batch norm across ranks that are threads (ThreadCommunicator), without MPI.
        .testTarget(name: "NNTests", dependencies: ["NN", "Engine", "Comm"], swiftSettings: optimized),
        .testTarget(name: "HDF5Tests", dependencies: ["HDF5"]),
        .testTarget(name: "TensorBoardTests", dependencies: ["TensorBoard"]),
        // Launches `mpirun` from the multi-rank tests, with a timeout that turns a hang into a failure.
        .target(name: "MPITestSupport", path: "Tests/MPITestSupport"),
        .testTarget(name: "CommTests", dependencies: ["Comm", "MPITestSupport"]),
        .testTarget(name: "DataTests", dependencies: ["Data", "HDF5", "Engine"]),
        .testTarget(name: "TrainerTests", dependencies: ["Trainer", "NN", "Data", "HDF5", "Engine", "MPITestSupport"]),
        .testTarget(name: "SystemLibraryTests", dependencies: ["CBLAS", "CMPI", "CHDF5"]),
    ]
)
