/// How to invert a clip: the method, the prompt that describes the clip, and the schedule.
///
/// The defaults are those of the methods' own code: edit-friendly DDPM inversion as ZETA's
/// `main_run.py` runs it (HilaManor/AudioEditingCode: 200 steps, `--tstart 100`, `--cfg_src 3`,
/// edits at `--cfg_tar 12`), DDIM inversion as PnP Inversion's `P2PEditor` runs it
/// (cure-lab/PnPInversion, models/p2p_editor.py: 50 steps inverted the whole way with the source
/// prompt's conditional prediction, edits at guidance 7.5).
public struct InversionSettings: Codable, Sendable, Equatable {
    public enum Method: String, Codable, Sendable, CaseIterable {
        /// Edit-friendly DDPM inversion (Huberman-Spiegelglas, Kulikov & Michaeli, CVPR 2024), as
        /// ZETA applies it to audio (Manor & Michaeli, ICML 2024): noise maps that make DDPM
        /// sampling (DDIM with η = 1) land on independently drawn noisy latents.
        case ddpm
        /// DDIM inversion, edited with Direct Inversion (Ju et al., "PnP Inversion", ICLR 2024):
        /// the source branch of a prompt-to-prompt edit is kept on the inverted trajectory.
        case ddim
    }

    public var method: Method
    /// What the clip sounds like; empty (the default, which ZETA shows works) inverts with the
    /// unconditional prediction alone.
    public var sourcePrompt: String
    /// N, the steps of the whole DDIM schedule on the model's scheduler configuration.
    public var stepCount: Int
    /// T_start: how many of the schedule's last (least noisy) steps the inversion covers, and so
    /// the most an edit may run. Fewer keep more of the clip.
    public var startStep: Int
    /// Classifier-free guidance of the source prompt while inverting (1 or less: none).
    public var guidance: Float

    /// The method's defaults, with any value overridden.
    public init(method: Method, sourcePrompt: String = "", stepCount: Int? = nil, startStep: Int? = nil,
                guidance: Float? = nil) {
        self.method = method
        self.sourcePrompt = sourcePrompt
        let steps = stepCount ?? (method == .ddpm ? 200 : 50)
        self.stepCount = steps
        self.startStep = startStep ?? (method == .ddpm ? steps / 2 : steps)
        self.guidance = guidance ?? (method == .ddpm ? 3 : 1)
    }

    /// The method's defaults with the start step given as a fraction of the schedule, as a
    /// command line or an edit plan gives it: T_start = round(strength × N), at least 1.
    public init(method: Method, sourcePrompt: String = "", stepCount: Int?, strength: Double?, guidance: Float? = nil) {
        self.init(method: method, sourcePrompt: sourcePrompt, stepCount: stepCount, guidance: guidance)
        // `Int(exactly:)`: a step count near Int.max (a plan's "steps") does not fit back into an
        // Int once multiplied as a Double, and `Int(_:)` would trap; `validate` refuses the result.
        if let strength { startStep = max(1, Int(exactly: (strength * Double(self.stepCount)).rounded()) ?? .max) }
    }

    /// The guidance the method's code edits with: ZETA's `--cfg_tar` 12, PnP's 7.5.
    public var editGuidance: Float { method == .ddpm ? 12 : 7.5 }

    /// Checks the values against a schedule of `trainingSteps` timesteps.
    /// - Throws: ``InversionError/invalidSettings(_:)`` naming the value.
    public func validate(trainingSteps: Int) throws {
        guard (1...trainingSteps).contains(stepCount) else {
            throw InversionError.invalidSettings("the step count must be between 1 and \(trainingSteps), got \(stepCount)")
        }
        guard (1...stepCount).contains(startStep) else {
            throw InversionError.invalidSettings("the start step must be between 1 and the step count \(stepCount), got \(startStep)")
        }
        guard guidance.isFinite, guidance >= 0 else {
            throw InversionError.invalidSettings("the inversion guidance must be a non-negative number, got \(guidance)")
        }
    }
}
