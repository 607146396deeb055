import AudioDSP
import Compute
import Foundation
import Models
import Schedulers
import Weights

extension FuzzTarget {
    /// An audio file in any container libsndfile knows, read whole under a 64 MiB decoded-size
    /// limit and then in windows, as long-file edits read it.
    static let audio = FuzzTarget(name: "audio", summary: "audio files (WAV, FLAC, Ogg Vorbis, AIFF, …)") { input in
        let url = Scratch.file("input.audio", input)
        _ = try? AudioFile.read(url, limits: AudioReadLimits(maximumDecodedBytes: 64 << 20))
        guard let reader = try? AudioReader(url) else { return }
        _ = try? reader.read(frames: 100..<4196)
        var chunks = 0
        while chunks < 64, (try? reader.read(maximumFrames: 4096)) ?? nil != nil { chunks += 1 }
    }

    /// The configuration files of a model folder. The first byte picks the reader, the rest is
    /// the file: each reader decodes strictly and validates before anything is built.
    static let configuration = FuzzTarget(name: "configuration", summary: "config.json of every model, scheduler_config.json, condition_config.json, shard indexes") { input in
        guard let selector = input.first else { return }
        let url = Scratch.file("config.json", input.dropFirst())
        switch selector % 8 {
        case 0: _ = (try? ModelFolder.configuration(UNetConfiguration.self, in: Scratch.folder))?.minimumParameterCount
        case 1: _ = (try? AutoencoderConfiguration(contentsOf: url))?.minimumParameterCount
        case 2: _ = (try? CLIPTextConfiguration(contentsOf: url))?.minimumParameterCount
        case 3: _ = try? ConditionAdapterConfiguration(contentsOf: url)
        case 4: _ = (try? HiFiGANConfiguration(contentsOf: url))?.minimumParameterCount
        case 5: _ = try? ModelFolder.configuration(MelParameters.self, in: Scratch.folder)
        case 6:
            guard let configuration = try? SchedulerConfiguration(contentsOf: url) else { return }
            _ = try? SchedulerKind.scheduler(describedBy: configuration)
        default:
            let index = Scratch.file("model.safetensors.index.json", input.dropFirst())
            _ = try? WeightFile.open(index)
        }
    }

    /// A `.npy` file, as `--noise` and `vocode` read it.
    static let numpy = FuzzTarget(name: "npy", summary: ".npy arrays") { input in
        guard let tensor = try? NumPyFile.decode(input) else { return }
        _ = try? NumPyFile.decode(NumPyFile.encode(tensor))
    }
}
