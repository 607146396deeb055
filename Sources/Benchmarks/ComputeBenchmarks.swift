import Compute

/// The compute-kernel benchmarks of `auffusion-bench`, at the sizes of the U-Net's top level
/// for a 10 s clip (latent 32 × 128; the `deep` convolutions: its 1280-channel 8 × 32 level, batch 2;
/// the linear layers: the top level's 4096 tokens, batch 2).
/// Inputs come from `TorchRandomSource`, as in the reference.
public enum ComputeBenchmarks {
    /// (name, prepared work) pairs; preparation is not timed.
    public static func all() -> [(String, () throws -> Void)] {
        var random = TorchRandomSource(seed: 0)
        let a = random.normal(shape: [1024, 1024]), b = random.normal(shape: [1024, 1024])
        let image = random.normal(shape: [1, 320, 32, 128])
        let kernel = random.normal(shape: [320, 320, 3, 3]) * 0.02
        let bias = random.normal(shape: [320])
        let query = random.normal(shape: [1, 8, 4096, 40])
        let key = random.normal(shape: [1, 8, 4096, 40])
        let value = random.normal(shape: [1, 8, 4096, 40])
        // The same heads side by side in each token's row, as the U-Net's attention layers read them.
        let (tokenQuery, tokenKey, tokenValue) = (tokensMajor(query), tokensMajor(key), tokensMajor(value))
        let gamma = random.normal(shape: [320]), beta = random.normal(shape: [320])
        let deepImage = random.normal(shape: [2, 1280, 8, 32])
        let deepKernel = random.normal(shape: [1280, 1280, 3, 3]) * 0.01
        let deepBias = random.normal(shape: [1280])
        let tokens = random.normal(shape: [2, 4096, 320]), wideTokens = random.normal(shape: [2, 4096, 1280])
        let projection = random.normal(shape: [320, 320]) * 0.05, projectionBias = random.normal(shape: [320])
        let feedForwardIn = random.normal(shape: [2560, 320]) * 0.05, feedForwardInBias = random.normal(shape: [2560])
        let feedForwardOut = random.normal(shape: [320, 1280]) * 0.05
        // The deeper levels' feed-forward layers: 1024 and 256 tokens a batch item, 640 and 1280 channels.
        let middleTokens = random.normal(shape: [2, 1024, 640]), deepTokens = random.normal(shape: [2, 256, 1280])
        let deepWideTokens = random.normal(shape: [2, 256, 5120])
        let middleIn = random.normal(shape: [5120, 640]) * 0.05, middleInBias = random.normal(shape: [5120])
        let deepIn = random.normal(shape: [10240, 1280]) * 0.05, deepInBias = random.normal(shape: [10240])
        let deepOut = random.normal(shape: [1280, 5120]) * 0.05, deepOutBias = random.normal(shape: [1280])
        return [
            ("compute.sgemm_1024", { _ = BLAS.matmul(a, b) }),
            ("compute.conv2d_3x3", { _ = Convolution.conv2d(image, weight: kernel, bias: bias, padding: 1) }),
            ("compute.conv2d_3x3_winograd", {
                _ = Convolution.conv2d(image, weight: kernel, bias: bias, padding: 1, strategy: .winograd)
            }),
            ("compute.conv2d_3x3_winograd4x4", {
                _ = Convolution.conv2d(image, weight: kernel, bias: bias, padding: 1, strategy: .winograd4x4)
            }),
            ("compute.conv2d_3x3_deep_winograd", {
                _ = Convolution.conv2d(deepImage, weight: deepKernel, bias: deepBias, padding: 1, strategy: .winograd)
            }),
            ("compute.conv2d_3x3_deep_winograd4x4", {
                _ = Convolution.conv2d(deepImage, weight: deepKernel, bias: deepBias, padding: 1, strategy: .winograd4x4)
            }),
            ("compute.attention", {
                _ = Attention.scaledDotProduct(query: query, key: key, value: value, scale: 1 / Float(40).squareRoot())
            }),
            ("compute.linear_320", { _ = tokens.linear(weight: projection, bias: projectionBias) }),
            ("compute.linear_320_2560", { _ = tokens.linear(weight: feedForwardIn, bias: feedForwardInBias) }),
            ("compute.linear_1280_320", { _ = wideTokens.linear(weight: feedForwardOut, bias: projectionBias) }),
            ("compute.linear_640_5120", { _ = middleTokens.linear(weight: middleIn, bias: middleInBias) }),
            ("compute.linear_1280_10240", { _ = deepTokens.linear(weight: deepIn, bias: deepInBias) }),
            ("compute.linear_5120_1280", { _ = deepWideTokens.linear(weight: deepOut, bias: deepOutBias) }),
            ("compute.attention_tokens", {
                _ = Attention.scaledDotProduct(query: tokenQuery, key: tokenKey, value: tokenValue, heads: 8,
                                               scale: 1 / Float(40).squareRoot())
            }),
            ("compute.groupnorm", {
                _ = Normalization.groupNorm(image, groups: 32, weight: gamma, bias: beta, epsilon: 1e-6)
            }),
        ]
    }

    /// `[B, H, N, D]` as `[B, N, H·D]`.
    private static func tokensMajor(_ x: Tensor) -> Tensor {
        x.permuted([0, 2, 1, 3]).reshaped([x.shape[0], x.shape[2], x.shape[1] * x.shape[3]])
    }
}
