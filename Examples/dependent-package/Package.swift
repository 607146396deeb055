// swift-tools-version: 6.0
// An app's package that depends on Auffusion by path, as any outside package would: it may
// only use the library products, and SwiftPM refuses a dependency whose targets set unsafeFlags.
// `make test` builds and runs it (docs/build.md).

import PackageDescription

let package = Package(
    name: "app-using-auffusion",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "Auffusion", path: "../.."),
    ],
    targets: [
        .executableTarget(
            name: "app-using-auffusion",
            dependencies: [
                .product(name: "AudioDSP", package: "Auffusion"),
                .product(name: "Editing", package: "Auffusion"),
                .product(name: "Pipeline", package: "Auffusion"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
