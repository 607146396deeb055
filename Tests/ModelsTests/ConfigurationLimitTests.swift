import AudioDSP
import Foundation
import Models
import Testing
import TestSupport

/// Damaged configuration files end in one error naming the file and the field, before anything
/// is allocated (issue #22: `norm_num_groups: 0` was a SIGFPE, `layers_per_block: -1` grew
/// until the OOM killer came, a vocoder `n_fft` of 20 000 048 hung).
@Suite("Configuration limits")
struct ConfigurationLimitTests {
    /// The embedded model shipped in Sources/Pipeline/Resources.
    static let embedded = Fixtures.root.deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Sources/Pipeline/Resources/auffusion-mini")

    /// A copy of the embedded model's `name/` folder with `key` of its config.json set to `value`
    /// (the weights are linked, not copied).
    static func folder(_ name: String, setting key: String, to value: Any) throws -> URL {
        let source = embedded.appendingPathComponent(name)
        let folder = try Fixtures.temporaryDirectory().appendingPathComponent(name)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for file in try FileManager.default.contentsOfDirectory(atPath: source.path) where file != "config.json" {
            try FileManager.default.createSymbolicLink(at: folder.appendingPathComponent(file),
                                                       withDestinationURL: source.appendingPathComponent(file))
        }
        var json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: source.appendingPathComponent("config.json"))) as? [String: Any])
        json[key] = value
        try JSONSerialization.data(withJSONObject: json).write(to: folder.appendingPathComponent("config.json"))
        return folder
    }

    static let unetCases: [(key: String, value: any Sendable, message: String)] = [
        ("norm_num_groups", 0, "norm_num_groups is 0; allowed: 1 to 1024"),
        ("attention_head_dim", 0, "attention_head_dim[0] is 0; allowed: 1 to 1024"),
        ("layers_per_block", -1, "layers_per_block[0] is -1; allowed: 1 to 16"),
        ("block_out_channels", [64, 128, 2_147_483_648], "block_out_channels[2] is 2147483648; allowed: 1 to 8192"),
        ("in_channels", 0, "in_channels is 0; allowed: 1 to 64"),
        ("norm_eps", -1, "norm_eps is -1.0"),
        ("cross_attention_dim", -5, "cross_attention_dim is -5"),
        ("block_out_channels", [4096, 4096, 4096], "needs at least"),
        ("norm_num_groups", 48, "do not divide into 48 groups"),
        ("layers_per_block", "two", "layers_per_block"),
    ]

    @Test("damaged U-Net configurations are refused before the network is built", arguments: unetCases.indices)
    func unet(_ index: Int) throws {
        let (key, value, message) = Self.unetCases[index]
        let folder = try Self.folder("unet", setting: key, to: value)
        let started = Date()
        let error = try #require(throws: (any Error).self) { try UNet2DConditionModel(folder: folder) }
        #expect("\(error)".contains(message), "\(key): \(error)")
        #expect(index == 7 || "\(error)".contains(folder.appendingPathComponent("config.json").path), "\(error)")
        #expect(Date().timeIntervalSince(started) < 10)   // building the network would take minutes or exhaust memory
    }

    @Test("damaged VAE and text encoder configurations are refused", arguments: [
        ("vae", "layers_per_block", -1, "layers_per_block is -1"),
        ("vae", "norm_num_groups", 0, "norm_num_groups is 0"),
        ("vae", "block_out_channels", 8192, "needs at least"),
        ("text_encoder", "num_attention_heads", 0, "num_attention_heads is 0"),
        ("text_encoder", "hidden_size", 100_000_000, "hidden_size is 100000000"),
        ("text_encoder", "vocab_size", 1_000_000, "needs at least"),
    ] as [(String, String, Int, String)])
    func otherModels(_ model: String, _ key: String, _ value: Int, _ message: String) throws {
        let folder = try Self.folder(model, setting: key, to: key == "block_out_channels" ? [8192, 8192, 8192, 8192] : value)
        let error = try #require(throws: (any Error).self) {
            if model == "vae" { _ = try AutoencoderKL(folder: folder) } else { _ = try CLIPTextModel(contentsOf: folder) }
        }
        #expect("\(error)".contains(message), "\(error)")
    }

    @Test("a vocoder n_fft of 20 000 048 and other mel parameters out of range are refused", arguments: [
        ("n_fft", 20_000_048, "n_fft is 20000048; allowed: 2 to 65536"),
        ("hop_size", 0, "hop_size is 0"),
        ("num_mels", -3, "num_mels is -3"),
        ("sampling_rate", 0, "sampling_rate is 0"),
    ] as [(String, Int, String)])
    func melParameters(_ key: String, _ value: Int, _ message: String) throws {
        let folder = try Self.folder("vocoder", setting: key, to: value)
        let error = try #require(throws: ModelError.self) { try ModelFolder.configuration(MelParameters.self, in: folder) }
        #expect(error.description.contains(message), "\(error)")
    }

    @Test("HiFi-GAN configurations out of range are refused", arguments: [
        ("upsample_rates", [5, 4, 0, 2], "upsample_rates[2] is 0"),
        ("upsample_initial_channel", [1 << 40], "upsample_initial_channel"),
        ("resblock_kernel_sizes", [3, 7, 1001], "resblock_kernel_sizes[2] is 1001"),
    ] as [(String, [Int], String)])
    func hifiGAN(_ key: String, _ value: [Int], _ message: String) throws {
        var json: [String: Any] = [
            "resblock": "1", "upsample_rates": [5, 4, 4, 2], "upsample_kernel_sizes": [11, 8, 8, 4],
            "upsample_initial_channel": 512, "resblock_kernel_sizes": [3, 7, 11],
            "resblock_dilation_sizes": [[1, 3, 5], [1, 3, 5], [1, 3, 5]], "num_mels": 256,
        ]
        json[key] = key == "upsample_initial_channel" ? value[0] : value
        let url = try Fixtures.temporaryDirectory().appendingPathComponent("config.json")
        try JSONSerialization.data(withJSONObject: json).write(to: url)
        let error = try #require(throws: VocoderError.self) { try HiFiGANConfiguration(contentsOf: url) }
        #expect(error.description.contains(message), "\(error)")
    }
}
