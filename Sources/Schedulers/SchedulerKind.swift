/// The schedulers this port implements, by CLI name, and the bridge from a model's
/// scheduler_config.json `_class_name`.
///
/// A kind builds its scheduler on a model's configuration the way diffusers swaps schedulers,
/// `NewScheduler.from_config(pipeline.scheduler.config)`: keys the configuration has are used,
/// absent ones take the new scheduler's own defaults (docs/reference.md §6.4: Auffusion's PNDM config gives
/// DPM-Solver and UniPC "leading" spacing and `steps_offset` 1). The DPM-Solver names also fix what they name:
/// `dpm++2m` is `algorithm_type` dpmsolver++ with `solver_order` 2 and no Karras sigmas,
/// `dpm++2m-karras` the same with `use_karras_sigmas`.
///
/// ```swift
/// let configuration = try SchedulerConfiguration(contentsOf: schedulerConfigURL)
/// var shipped = try SchedulerKind.scheduler(describedBy: configuration)      // Auffusion: PNDM
/// var chosen = try SchedulerKind.dpmSolverMultistep.makeScheduler(configuration: configuration)
/// ```
public enum SchedulerKind: String, Sendable, CaseIterable {
    /// PLMS, ``PNDMScheduler`` (what Auffusion ships).
    case pndm
    /// ``DDIMScheduler`` with η = 0.
    case ddim
    /// DPM-Solver++ 2M, ``DPMSolverMultistepScheduler``.
    case dpmSolverMultistep = "dpm++2m"
    /// DPM-Solver++ 2M with Karras sigmas.
    case dpmSolverMultistepKarras = "dpm++2m-karras"
    /// ``EulerDiscreteScheduler``.
    case euler
    /// UniPC, ``UniPCMultistepScheduler``: a predictor–corrector for 10–15 steps.
    case unipc

    /// The kind a user names: `pndm`, `ddim`, `dpmpp`, `dpmpp-karras`, `euler`, `unipc` (the names of the
    /// command line and of edit plans), or the raw value (`dpm++2m`, `dpm++2m-karras`).
    public init?(name: String) {
        guard let kind = Self.allCases.first(where: { $0.name == name || $0.rawValue == name }) else { return nil }
        self = kind
    }

    /// The name users type (command line, edit plans, batch files).
    public var name: String {
        switch self {
        case .pndm: "pndm"
        case .ddim: "ddim"
        case .dpmSolverMultistep: "dpmpp"
        case .dpmSolverMultistepKarras: "dpmpp-karras"
        case .euler: "euler"
        case .unipc: "unipc"
        }
    }

    /// Every name of ``name``, comma-separated, for help and error messages.
    public static var names: String { allCases.map(\.name).joined(separator: ", ") }

    /// The kind whose diffusers class is `className` (a `_class_name`); DPM-Solver maps to
    /// ``dpmSolverMultistep`` (whether it uses Karras sigmas is the configuration's business).
    ///
    /// - Throws: ``SchedulerError/unknownScheduler(name:)`` for any other class.
    public init(className: String) throws {
        switch className {
        case PNDMScheduler.name: self = .pndm
        case DDIMScheduler.name: self = .ddim
        case DPMSolverMultistepScheduler.name: self = .dpmSolverMultistep
        case EulerDiscreteScheduler.name: self = .euler
        case UniPCMultistepScheduler.name: self = .unipc
        default: throw SchedulerError.unknownScheduler(name: className)
        }
    }

    /// The diffusers class this kind is.
    public var className: String {
        switch self {
        case .pndm: PNDMScheduler.name
        case .ddim: DDIMScheduler.name
        case .dpmSolverMultistep, .dpmSolverMultistepKarras: DPMSolverMultistepScheduler.name
        case .euler: EulerDiscreteScheduler.name
        case .unipc: UniPCMultistepScheduler.name
        }
    }

    /// This kind's scheduler on `configuration`, with the settings its name implies.
    ///
    /// - Throws: what the scheduler's initialiser throws for unsupported settings.
    public func makeScheduler(configuration: SchedulerConfiguration) throws -> any Scheduler {
        switch self {
        case .pndm: return try PNDMScheduler(configuration: configuration)
        case .ddim: return try DDIMScheduler(configuration: configuration)
        case .dpmSolverMultistep, .dpmSolverMultistepKarras:
            var named = configuration
            named.algorithmType = .dpmSolverPlusPlus
            named.solverOrder = 2
            named.useKarrasSigmas = self == .dpmSolverMultistepKarras
            return try DPMSolverMultistepScheduler(configuration: named)
        case .euler: return try EulerDiscreteScheduler(configuration: configuration)
        case .unipc: return try UniPCMultistepScheduler(configuration: configuration)
        }
    }

    /// The scheduler a configuration describes: the class of its `_class_name`, built with every
    /// key as given (as diffusers' `SchedulerMixin.from_pretrained` does).
    ///
    /// - Throws: ``SchedulerError/unknownScheduler(name:)`` when `_class_name` is absent or not
    ///   implemented; what the scheduler's initialiser throws.
    public static func scheduler(describedBy configuration: SchedulerConfiguration) throws -> any Scheduler {
        switch try SchedulerKind(className: configuration.className ?? "") {
        case .pndm: try PNDMScheduler(configuration: configuration)
        case .ddim: try DDIMScheduler(configuration: configuration)
        case .dpmSolverMultistep, .dpmSolverMultistepKarras: try DPMSolverMultistepScheduler(configuration: configuration)
        case .euler: try EulerDiscreteScheduler(configuration: configuration)
        case .unipc: try UniPCMultistepScheduler(configuration: configuration)
        }
    }
}
