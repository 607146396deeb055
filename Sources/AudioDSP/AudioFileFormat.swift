import CSndFile

/// What an audio file holds, as libsndfile reports it: its rate, its channels and how its
/// samples are encoded. An edit writes its output in this format unless told otherwise
/// (docs/editing.md, "The file's own format").
public struct AudioFileFormat: Sendable, Equatable {
    /// Samples per second, in Hz.
    public var sampleRate: Double
    /// Number of channels.
    public var channelCount: Int
    /// The sample encoding when it is one the toolkit writes; `nil` for the others (8-bit, µ-law,
    /// ADPCM, Vorbis, Opus, MP3, …).
    public var encoding: SampleEncoding?
    /// libsndfile's subtype name, for messages (`PCM_24`, `FLOAT`, `VORBIS`, …).
    public var subtypeName: String
    /// Whether decoding gives back exactly what was recorded: integer PCM, float, FLAC and ALAC;
    /// not Vorbis, Opus, MP3, GSM or ADPCM.
    public var isLossless: Bool
    /// The container the bytes are, when it is one the toolkit writes; `nil` for the others (MP3,
    /// CAF, AU, …). A file's name may say otherwise.
    public var container: AudioContainer?

    public init(sampleRate: Double, channelCount: Int, encoding: SampleEncoding?, subtypeName: String, isLossless: Bool,
                container: AudioContainer? = nil) {
        self.sampleRate = sampleRate
        self.channelCount = channelCount
        self.encoding = encoding
        self.subtypeName = subtypeName
        self.isLossless = isLossless
        self.container = container
    }

    /// The format of libsndfile's `SF_INFO` for a file it opened.
    init(_ info: SF_INFO) {
        let subtype = Int(info.format) & Int(SF_FORMAT_SUBMASK)
        let known: (SampleEncoding?, String, Bool) = switch subtype {
        case Int(SF_FORMAT_PCM_16): (.pcm16, "PCM_16", true)
        case Int(SF_FORMAT_PCM_24): (.pcm24, "PCM_24", true)
        case Int(SF_FORMAT_PCM_32): (.pcm32, "PCM_32", true)
        case Int(SF_FORMAT_FLOAT): (.float32, "FLOAT", true)
        case Int(SF_FORMAT_DOUBLE): (.float64, "DOUBLE", true)
        case Int(SF_FORMAT_PCM_S8), Int(SF_FORMAT_PCM_U8): (nil, "PCM_8", true)
        case Int(SF_FORMAT_ALAC_16), Int(SF_FORMAT_ALAC_20), Int(SF_FORMAT_ALAC_24), Int(SF_FORMAT_ALAC_32): (nil, "ALAC", true)
        case Int(SF_FORMAT_VORBIS): (nil, "VORBIS", false)
        case Int(SF_FORMAT_OPUS): (nil, "OPUS", false)
        case Int(SF_FORMAT_MPEG_LAYER_I), Int(SF_FORMAT_MPEG_LAYER_II), Int(SF_FORMAT_MPEG_LAYER_III): (nil, "MPEG", false)
        default: (nil, "subtype 0x" + String(subtype, radix: 16), false)
        }
        let container: AudioContainer? = switch Int(info.format) & Int(SF_FORMAT_TYPEMASK) {
        case Int(SF_FORMAT_WAV), Int(SF_FORMAT_WAVEX): .wav
        case Int(SF_FORMAT_FLAC): .flac
        case Int(SF_FORMAT_OGG): .ogg
        case Int(SF_FORMAT_AIFF): .aiff
        default: nil
        }
        self.init(sampleRate: Double(info.samplerate), channelCount: Int(info.channels), encoding: known.0,
                  subtypeName: known.1, isLossless: known.2, container: container)
    }

    /// Whether the file stores integers of at most 32 bits (PCM, FLAC, ALAC): then libsndfile's
    /// `sf_readf_int` gives them exactly, left-justified in 32 bits.
    var isInteger: Bool { isLossless && encoding?.integerBits != nil || subtypeName == "PCM_8" || subtypeName == "ALAC" }
}
