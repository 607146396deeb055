import Compute

/// One multi-receptive-field residual block of a HiFi-GAN generator: a port of Auffusion
/// `ResBlock1` and `ResBlock2` (converter.py; the same classes in auffusion_pipeline.py), after
/// Kong et al. 2020, "HiFi-GAN", §2.1 and Figure 1.
///
/// Both designs are a chain of residual units `x ← x + f(x)`, each with convolutions of one
/// odd kernel size `k`, stride 1 and "same" padding `d(k − 1)/2`, and leaky ReLU slope 0.1:
/// - `ResBlock1` (keys `convs1.m.*`, `convs2.m.*`, m = 0…2):
///   `f = convs2[m] ∘ lrelu ∘ convs1[m] ∘ lrelu`, `convs1[m]` dilated by `d_m`, `convs2[m]` not;
/// - `ResBlock2` (keys `convs.m.*`, m = 0…1): `f = convs[m] ∘ lrelu`, dilated by `d_m`.
struct HiFiGANResidualBlock: Sendable {
    /// One residual unit: a dilated convolution, then (ResBlock1 only) an undilated one.
    struct Unit: Sendable {
        let dilated: Conv1d
        let undilated: Conv1d?
    }

    let units: [Unit]

    /// This block with the Winograd filters of its convolutions made once (``Conv1d/preparingWinograd()``).
    func preparingWinograd() -> HiFiGANResidualBlock {
        HiFiGANResidualBlock(units: units.map { Unit(dilated: $0.dilated.preparingWinograd(), undilated: $0.undilated?.preparingWinograd()) })
    }

    private init(units: [Unit]) { self.units = units }

    /// How far the block's output at a position depends on inputs on either side: the sum of its
    /// convolutions' paddings ("same" padding is half the dilated kernel's span).
    var reach: Int { units.reduce(0) { $0 + $1.dilated.padding + ($1.undilated?.padding ?? 0) } }

    /// Loads the block of `design` with `channels` channels, kernel size `kernel` and `dilations`
    /// (as many as the design uses; ``HiFiGANConfiguration/validate()`` checks them).
    init(_ parameters: Parameters, design: HiFiGANConfiguration.ResidualBlock, channels: Int, kernel: Int,
         dilations: [Int], norm: WeightNorm) {
        func conv(_ scope: Parameters, dilation: Int) -> Conv1d {
            Conv1d(scope, inputs: channels, outputs: channels, kernel: kernel, dilation: dilation,
                   padding: dilation * (kernel - 1) / 2, norm: norm, winograd: true)
        }
        units = dilations.enumerated().map { index, dilation in
            switch design {
            case .one:
                Unit(dilated: conv(parameters["convs1", index], dilation: dilation),
                     undilated: conv(parameters["convs2", index], dilation: 1))
            case .two:
                Unit(dilated: conv(parameters["convs", index], dilation: dilation), undilated: nil)
            }
        }
    }

    /// `[N, C, L] → [N, C, L]`. The leaky ReLUs and the residual add run inside the convolutions
    /// (``Conv1d/callAsFunction(_:inputSlope:adding:)``), with the same roundings.
    func callAsFunction(_ input: Tensor) -> Tensor {
        let slope = HiFiGANGenerator.slope
        var x = input
        for unit in units {
            if let undilated = unit.undilated {
                x = undilated(unit.dilated(x, inputSlope: slope), inputSlope: slope, adding: x)
            } else {
                x = unit.dilated(x, inputSlope: slope, adding: x)
            }
        }
        return x
    }
}
