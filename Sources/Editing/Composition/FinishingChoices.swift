/// What a caller chooses of how the finishing step joins a plan's result to the clip: each `nil`
/// leaves the plan's own value (``EditPlan/crossfadeSeconds``, ``EditPlan/raw``,
/// ``EditPlan/fillLevel``). A plan document carries them (`crossfade_ms`, `raw`, `fill_level`),
/// and the command line's flags are applied on top, so that a flag given wins and a flag left out
/// keeps the document's choice.
public struct FinishingChoices: Sendable, Equatable {
    public var crossfadeSeconds: Double?
    public var raw: Bool?
    public var fillLevel: FillLevel?

    public init(crossfadeSeconds: Double? = nil, raw: Bool? = nil, fillLevel: FillLevel? = nil) {
        self.crossfadeSeconds = crossfadeSeconds
        self.raw = raw
        self.fillLevel = fillLevel
    }

    /// `plan` with the choices made here.
    public func applied(to plan: EditPlan) -> EditPlan {
        var plan = plan
        plan.crossfadeSeconds = crossfadeSeconds ?? plan.crossfadeSeconds
        plan.raw = raw ?? plan.raw
        plan.fillLevel = fillLevel ?? plan.fillLevel
        return plan
    }
}
