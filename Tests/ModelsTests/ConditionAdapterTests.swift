import Compute
import Foundation
import Models
import Testing
import TestSupport
import Weights

/// Auffusion's ConditionAdapter against its PyTorch definition, loaded from the files
/// `ConditionAdapter.save_pretrained` writes (`config.json`, `condition_adapter.pt`). The input
/// is the tiny text encoder's unpadded output zero-padded to 77 rows, as AuffusionPipeline feeds
/// it; compared over the whole [1, 77, 24] output within `Tolerance.network`.
@Suite("ConditionAdapter against Auffusion (scripts/reference/clip_fixtures.py)")
struct ConditionAdapterTests {
    @Test("norm(proj(x)) from condition_adapter_0/")
    func parity() throws {
        let adapter = try ConditionAdapter(contentsOf: Fixtures.url("clip/condition_adapter_0"))
        #expect(adapter.configuration == ConditionAdapterConfiguration(conditionDimension: 32, crossAttentionDimension: 24))
        let output = adapter(try Fixtures.tensor("clip/adapter_input.npy"))
        let discrepancy = compare(output, try Fixtures.tensor("clip/adapter_output.npy"))
        #expect(output.shape == [1, 77, 24])
        #expect(discrepancy.isWithin(.network), "\(discrepancy)")
    }

    @Test("the adapter's input is the text encoder's unpadded output, zero-padded to 77 rows")
    func inputIsPaddedEncoding() throws {
        let input = try Fixtures.tensor("clip/adapter_input.npy")
        let encoding = try Fixtures.tensor("clip/text_quick_gelu/output_unpadded.npy")
        let rows = encoding.shape[1]
        #expect(input.sliced(axis: 1, 0..<rows) == encoding)
        #expect(input.sliced(axis: 1, rows..<77).scalars.allSatisfy { $0 == 0 })
    }

    @Test("a missing width, a missing checkpoint or a checkpoint of another shape is a clear error")
    func errors() throws {
        let folder = try Fixtures.temporaryDirectory()
        let config = folder.appendingPathComponent("config.json")
        try Data(#"{"condition_dim": 32}"#.utf8).write(to: config)
        do {
            _ = try ConditionAdapter(contentsOf: folder)
            Issue.record("a config without cross_attention_dim loaded")
        } catch let error as TextEncoderError {
            #expect(error.description.contains("cross_attention_dim") && error.description.contains(config.path), "\(error)")
        }
        try Data(#"{"condition_dim": 32, "cross_attention_dim": 16}"#.utf8).write(to: config)
        let checkpoint = folder.appendingPathComponent("condition_adapter.pt")
        #expect(throws: TextEncoderError.missingFile(path: checkpoint.path, expected: ["condition_adapter.pt"])) {
            try ConditionAdapter(contentsOf: folder)
        }
        try FileManager.default.copyItem(at: Fixtures.url("clip/condition_adapter_0/condition_adapter.pt"), to: checkpoint)
        #expect(throws: WeightsError.self) { try ConditionAdapter(contentsOf: folder) }
    }
}
