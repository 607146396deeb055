// swift-tools-version: 6.0
// Auffusion for Swift: text-to-audio diffusion and audio editing on the CPU.
// Layers depend downwards only: C shims ← Compute ← AudioDSP/Weights ← … ← CLI (docs/architecture.md).

import PackageDescription

// MARK: - System libraries (each imported by exactly one Swift target)

let systemLibraries: [Target] = [
    .systemLibrary(name: "CSndFile", pkgConfig: "sndfile", providers: [.apt(["libsndfile1-dev"])]),
    .systemLibrary(name: "CFFTW", pkgConfig: "fftw3f", providers: [.apt(["libfftw3-dev"])]),
    .systemLibrary(name: "CSampleRate", pkgConfig: "samplerate", providers: [.apt(["libsamplerate0-dev"])]),
    .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
    .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
    .systemLibrary(name: "CMalloc"),  // glibc's <malloc.h> (mallopt), part of libc6-dev
]

// MARK: - Libraries

// No target sets `unsafeFlags` (SwiftPM refuses them in a versioned dependency): the Makefile adds
// `-Ounchecked` to release builds instead; docs/build.md measures what a dependent without it loses.
let libraries: [Target] = [
    .target(name: "FileOutput"),
    // Matrix-product kernels in C with AVX2 / AVX-512 intrinsics, each function carrying its own
    // instruction-set target; Compute chooses among them at run time (InstructionSet.swift).
    .target(name: "CKernels"),
    .target(name: "Compute", dependencies: ["FileOutput", "COpenBLAS", "CMalloc", "CKernels"]),
    .target(name: "AudioDSP", dependencies: ["Compute", "FileOutput", "CSndFile", "CFFTW", "CSampleRate"]),
    .target(name: "Pictures", dependencies: ["AudioDSP", "Compute", "FileOutput", "CZlib"]),
    .target(name: "Weights", dependencies: ["Compute", "FileOutput"]),
    .target(name: "Models", dependencies: ["Compute", "Weights"]),
    .target(name: "Schedulers", dependencies: ["Compute"]),
    .target(name: "Pipeline", dependencies: ["Compute", "AudioDSP", "Weights", "Models", "Schedulers"],
            resources: [.copy("Resources/auffusion-mini")]),
    .target(name: "Editing", dependencies: ["Compute", "AudioDSP", "Weights", "Models", "Schedulers", "Pipeline"]),
    .target(name: "Toolkit", dependencies: ["AudioDSP", "Compute", "Editing", "FileOutput", "Models", "Pictures", "Pipeline", "Weights"]),
]

// MARK: - The browser editor (`auffusion serve`): the only targets that depend on Hummingbird

let server: [Target] = [
    .target(name: "Server", dependencies: ["AudioDSP", "Compute", "Editing", "FileOutput", "Models", "Pictures", "Pipeline", "Toolkit",
                                           .product(name: "Hummingbird", package: "hummingbird"),
                                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")],
            resources: [.copy("Page")]),
]

// MARK: - Not shipped: stand-in weights and benchmarks

let development: [Target] = [
    .target(name: "SyntheticWeights", dependencies: ["Compute", "Models"]),
    .target(name: "Benchmarks", dependencies: ["AudioDSP", "Compute", "Models", "SyntheticWeights", "Toolkit"]),
]

// MARK: - Tools

let tools: [Target] = [
    .executableTarget(
        name: "CLI",
        dependencies: ["AudioDSP", "Compute", "Editing", "FileOutput", "Models", "Pictures", "Pipeline", "Schedulers",
                       "Server", "Toolkit",
                       .product(name: "ArgumentParser", package: "swift-argument-parser")]
    ),
    // The `make bench*` targets' timer (docs/build.md), kept out of the command users run.
    .executableTarget(name: "BenchTool", dependencies: ["AudioDSP", "Benchmarks", "Compute", "Toolkit",
                                                       .product(name: "ArgumentParser", package: "swift-argument-parser")]),
    .executableTarget(name: "mel-roundtrip", dependencies: ["AudioDSP"], path: "Examples/mel-roundtrip"),
    .executableTarget(name: "generate", dependencies: ["AudioDSP", "Pictures", "Pipeline"], path: "Examples/generate"),
    .executableTarget(name: "transfer", dependencies: ["AudioDSP", "Editing", "Pipeline"], path: "Examples/transfer"),
    .executableTarget(name: "inpaint", dependencies: ["AudioDSP", "Editing", "Pipeline"], path: "Examples/inpaint"),
    .executableTarget(name: "prompt-edit", dependencies: ["AudioDSP", "Editing", "Pipeline"], path: "Examples/prompt-edit"),
]

// MARK: - Fuzzing (docs/reliability.md; `make fuzz` builds these with -sanitize=fuzzer)

let fuzzing: [Target] = [
    .target(name: "FuzzTargets", dependencies: ["AudioDSP", "Compute", "Editing", "FileOutput", "Models", "Pipeline", "Schedulers",
                                                "Toolkit", "Weights"], path: "Fuzz/Targets"),
    .executableTarget(name: "fuzz", dependencies: ["FuzzTargets"], path: "Fuzz/fuzz"),
]

// MARK: - Test support and tests

let tests: [Target] = [
    // Fixtures stay in Tests/Fixtures and are found through #filePath, so they are not copied into bundles.
    .target(name: "TestSupport", dependencies: ["Compute"], path: "Tests/TestSupport"),
    .testTarget(name: "ComputeTests", dependencies: ["Compute", "TestSupport"]),
    .testTarget(name: "AudioDSPTests", dependencies: ["AudioDSP", "TestSupport"]),
    .testTarget(name: "PicturesTests", dependencies: ["Pictures", "AudioDSP", "Compute", "TestSupport"]),
    .testTarget(name: "WeightsTests", dependencies: ["Weights", "TestSupport"]),
    .testTarget(name: "ModelsTests", dependencies: ["AudioDSP", "Models", "Weights", "SyntheticWeights", "TestSupport"]),
    .testTarget(name: "SchedulersTests", dependencies: ["Schedulers", "TestSupport"]),
    .testTarget(name: "PipelineTests", dependencies: ["Pipeline", "Models", "Schedulers", "AudioDSP", "TestSupport"]),
    .testTarget(name: "EditingTests", dependencies: ["Editing", "Pipeline", "Models", "Schedulers", "AudioDSP", "Compute", "Weights", "TestSupport"]),
    .testTarget(name: "ToolkitTests", dependencies: ["Toolkit", "AudioDSP", "Compute", "Editing", "FileOutput", "Pipeline", "TestSupport",
                                                 "Weights"]),
    .testTarget(name: "CLITests", dependencies: ["CLI", "AudioDSP", "Compute", "Pipeline", "TestSupport"]),
    // Speaks HTTP to a real server on a loopback port with NIO's own HTTP/1.1 codec: Hummingbird's
    // testing module would pull in an HTTP client with TLS (BoringSSL), minutes of every fresh build.
    .testTarget(name: "ServerTests", dependencies: ["Server", "AudioDSP", "Editing", "Pipeline", "TestSupport",
                                                    .product(name: "Hummingbird", package: "hummingbird"),
                                                    .product(name: "NIOCore", package: "swift-nio"),
                                                    .product(name: "NIOPosix", package: "swift-nio"),
                                                    .product(name: "NIOHTTP1", package: "swift-nio"),
                                                    .product(name: "Logging", package: "swift-log"),
                                                    .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")]),
    .testTarget(name: "FuzzTests", dependencies: ["FuzzTargets", "TestSupport"]),
]

let package = Package(
    name: "Auffusion",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "auffusion", targets: ["CLI"]),
        .executable(name: "auffusion-bench", targets: ["BenchTool"]),
        // What an app imports to generate and edit (docs/build.md, "Depending on the library").
        .library(name: "Pipeline", targets: ["Pipeline"]),
        .library(name: "Editing", targets: ["Editing"]),
        .library(name: "Toolkit", targets: ["Toolkit", "FileOutput"]),   // FileOutput: OutputFolder, which batches take
        .library(name: "AudioDSP", targets: ["AudioDSP"]),
        .library(name: "Compute", targets: ["Compute"]),
        .library(name: "Pictures", targets: ["Pictures"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        // Already in Hummingbird's graph; named for the server's tests, which use them directly.
        .package(url: "https://github.com/apple/swift-nio", from: "2.81.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
    ],
    targets: systemLibraries + libraries + server + development + tools + fuzzing + tests,
    swiftLanguageModes: [.v6]
)
