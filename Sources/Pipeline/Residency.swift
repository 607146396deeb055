import AudioDSP
import Compute
import Foundation
import Models
import Weights

/// How long a pipeline keeps its networks in memory.
///
/// A generation uses its networks one after another: the text encoder for the prompt, the U-Net
/// for every step, the VAE's decoder and the vocoder once each. Kept together, the released
/// model's float32 weights take about 4.3 GB; one at a time, the U-Net's 3.4 GB is the most
/// that is ever resident (docs/compute.md, "Peak memory of a generation").
public enum Residency: String, Sendable, CaseIterable {
    /// Every network is loaded when the pipeline is made and stays: what the long-lived server
    /// behind the browser editor uses, where each request would otherwise reload the U-Net.
    case allLoaded
    /// One network in memory at a time: each is loaded when a run first needs it and releases the
    /// one used before, so a one-shot run peaks at its largest network instead of their sum. A
    /// run that returns to a network loads it again (a style transfer's VAE: a fraction of a
    /// second; a batch's U-Net: a few seconds per item). The pipeline is made by loading the
    /// small networks once, so that a damaged file is reported before any work starts.
    case oneAtATime
}

/// The networks of a model folder, each loaded on first use and, under
/// ``Residency/oneAtATime``, released when another one is loaded.
final class ResidentNetworks: @unchecked Sendable {
    // @unchecked: the networks are read and replaced under `lock` only.
    let residency: Residency
    private let directory: ModelDirectory
    private let melParameters: MelParameters
    private let lock = NSLock()
    private var loadedText: TextConditioner?
    private var loadedUNet: UNet2DConditionModel?
    private var loadedVAE: AutoencoderKL?
    private var loadedVocoder: Vocoder?

    /// Loads (or, under ``Residency/oneAtATime``, checks by loading once) the networks of
    /// `directory`: all of them when kept, all but the U-Net otherwise, which its first run loads.
    init(directory: ModelDirectory, melParameters: MelParameters, residency: Residency) throws {
        self.directory = directory
        self.melParameters = melParameters
        self.residency = residency
        _ = try self.vae()
        _ = try self.vocoder()
        if residency == .allLoaded { _ = try self.unet() }
        _ = try self.text()
    }

    func text() throws -> TextConditioner {
        try resident(\.loadedText) { try TextConditioner($0.text) }
    }

    func unet() throws -> UNet2DConditionModel {
        try resident(\.loadedUNet) { try UNet2DConditionModel(folder: $0.unet) }
    }

    func vae() throws -> AutoencoderKL {
        try resident(\.loadedVAE) { try AutoencoderKL(folder: $0.vae) }
    }

    func vocoder() throws -> Vocoder {
        try resident(\.loadedVocoder) { [melParameters] in try Vocoder(folder: $0.vocoder, parameters: melParameters) }
    }

    /// Which networks are in memory now, for tests and reports.
    var residentCount: Int {
        lock.withLock { [loadedText != nil, loadedUNet != nil, loadedVAE != nil, loadedVocoder != nil].filter { $0 }.count }
    }

    /// The network in `slot`, loaded by `load` when absent; under ``Residency/oneAtATime`` the
    /// others are released first, so that their memory can take the new one's.
    private func resident<Network>(_ slot: ReferenceWritableKeyPath<ResidentNetworks, Network?>,
                                   load: (ModelDirectory) throws -> Network) throws -> Network {
        try lock.withLock {
            if let network = self[keyPath: slot] { return network }
            if residency == .oneAtATime {
                loadedText = nil
                loadedUNet = nil
                loadedVAE = nil
                loadedVocoder = nil
                HeapMemory.returnFreed()
            }
            let network = try load(directory)
            self[keyPath: slot] = network
            return network
        }
    }
}
