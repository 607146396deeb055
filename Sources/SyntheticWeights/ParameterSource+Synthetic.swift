import Models

extension ParameterSource {
    /// Every parameter from ``SyntheticParameters``: a full-size network without its checkpoint.
    public static var synthetic: ParameterSource {
        .generated { key, shape in SyntheticParameters.tensor(key: key, shape: shape) }
    }
}
