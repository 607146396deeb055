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

let swiftSettings: [SwiftSetting] = [
    .unsafeFlags(["-Ounchecked"], .when(configuration: .release)),
]

let libraries: [Target] = [
    // Matrix-product kernels in C with AVX2 / AVX-512 intrinsics, each function carrying its own
    // instruction-set target; Compute chooses among them at run time (InstructionSet.swift).
    .target(name: "CKernels", cSettings: [.unsafeFlags(["-O3"])]),
    .target(name: "Compute", dependencies: ["COpenBLAS", "CMalloc", "CKernels"], swiftSettings: swiftSettings),
    .target(name: "AudioDSP", dependencies: ["Compute", "CSndFile", "CFFTW", "CSampleRate", "CZlib"],
            swiftSettings: swiftSettings),
    .target(name: "Weights", dependencies: ["Compute"], swiftSettings: swiftSettings),
    .target(name: "Models", dependencies: ["Compute", "Weights"], swiftSettings: swiftSettings),
    .target(name: "Schedulers", dependencies: ["Compute"], swiftSettings: swiftSettings),
    .target(name: "Pipeline", dependencies: ["Compute", "AudioDSP", "Weights", "Models", "Schedulers"],
            resources: [.copy("Resources/auffusion-mini")], swiftSettings: swiftSettings),
    .target(name: "Editing", dependencies: ["Compute", "AudioDSP", "Models", "Schedulers", "Pipeline"],
            swiftSettings: swiftSettings),
]

// MARK: - Tools

let tools: [Target] = [
    .executableTarget(
        name: "CLI",
        dependencies: ["AudioDSP", "Compute", "Editing", "Models", "Pipeline", "Schedulers", .product(name: "ArgumentParser", package: "swift-argument-parser")],
        swiftSettings: swiftSettings
    ),
    .executableTarget(name: "mel-roundtrip", dependencies: ["AudioDSP"], path: "Examples/mel-roundtrip"),
    .executableTarget(name: "generate", dependencies: ["AudioDSP", "Pipeline"], path: "Examples/generate"),
    .executableTarget(name: "transfer", dependencies: ["AudioDSP", "Editing", "Pipeline"], path: "Examples/transfer"),
    .executableTarget(name: "inpaint", dependencies: ["AudioDSP", "Editing", "Pipeline"], path: "Examples/inpaint"),
    .executableTarget(name: "prompt-edit", dependencies: ["AudioDSP", "Editing", "Pipeline"], path: "Examples/prompt-edit"),
]

// MARK: - Test support and tests

let tests: [Target] = [
    // Fixtures stay in Tests/Fixtures and are found through #filePath, so they are not copied into bundles.
    .target(name: "TestSupport", dependencies: ["Compute"], path: "Tests/TestSupport"),
    .testTarget(name: "ComputeTests", dependencies: ["Compute", "TestSupport"]),
    .testTarget(name: "AudioDSPTests", dependencies: ["AudioDSP", "TestSupport"]),
    .testTarget(name: "WeightsTests", dependencies: ["Weights", "TestSupport"]),
    .testTarget(name: "ModelsTests", dependencies: ["Models", "Weights", "TestSupport"]),
    .testTarget(name: "SchedulersTests", dependencies: ["Schedulers", "TestSupport"]),
    .testTarget(name: "PipelineTests", dependencies: ["Pipeline", "Models", "Schedulers", "AudioDSP", "TestSupport"]),
    .testTarget(name: "EditingTests", dependencies: ["Editing", "Pipeline", "Models", "Schedulers", "AudioDSP", "Compute", "TestSupport"]),
    .testTarget(name: "CLITests", dependencies: ["CLI", "AudioDSP", "TestSupport"]),
]

let package = Package(
    name: "Auffusion",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "auffusion", targets: ["CLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: systemLibraries + libraries + tools + tests,
    swiftLanguageModes: [.v6]
)
