/// Why a scheduler could not be built or stepped.
public enum SchedulerError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A configuration key asks for something this port does not implement (e.g. `thresholding`).
    case unsupportedSetting(scheduler: String, key: String, value: String)
    /// A configuration is inconsistent (e.g. `trained_betas` of the wrong length).
    case invalidConfiguration(scheduler: String, reason: String)
    /// A `_class_name` or scheduler name that no ``SchedulerKind`` stands for.
    case unknownScheduler(name: String)
    /// A step count outside 1…`trainingSteps`: `num_train_timesteps`, or fewer where the
    /// spacing's offset would step past the training range.
    case invalidStepCount(Int, trainingSteps: Int)
    /// An img2img strength outside [0, 1].
    case invalidStrength(Double)
    /// `step` or `scaleModelInput` before `setTimesteps`.
    case timestepsNotSet(scheduler: String)
    /// A timestep that is not one of the schedule's (schedulers that look timesteps up by value).
    case timestepNotInSchedule(Float)
    /// A timestep whose ᾱ index falls outside the training range.
    case timestepOutOfRange(Int, trainingSteps: Int)

    public var description: String {
        switch self {
        case .unsupportedSetting(let scheduler, let key, let value):
            "\(scheduler): \(key) = \(value) is not supported by this port"
        case .invalidConfiguration(let scheduler, let reason): "\(scheduler): invalid configuration: \(reason)"
        case .unknownScheduler(let name): "unknown scheduler '\(name)'"
        case .invalidStepCount(let count, let trainingSteps) where trainingSteps < 1:
            "this scheduler's configuration allows no step (its num_train_timesteps is too small), got \(count)"
        case .invalidStepCount(let count, let trainingSteps):
            "the step count must be between 1 and \(trainingSteps), got \(count)"
        case .invalidStrength(let strength): "the strength must be between 0 and 1, got \(strength)"
        case .timestepsNotSet(let scheduler): "\(scheduler): setTimesteps(stepCount:) must be called before stepping"
        case .timestepNotInSchedule(let timestep): "timestep \(timestep) is not in the schedule"
        case .timestepOutOfRange(let timestep, let trainingSteps):
            "timestep \(timestep) is outside the \(trainingSteps) training timesteps"
        }
    }
}
