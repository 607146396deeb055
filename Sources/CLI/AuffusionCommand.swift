import ArgumentParser

/// The `auffusion` command-line tool: analysis, resynthesis and (as the models land) generation
/// and editing of audio with the Auffusion diffusion pipeline.
@main
struct AuffusionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "auffusion",
        abstract: "Text-guided audio generation and editing with Auffusion, on the CPU.",
        subcommands: [GenerateCommand.self, TransferCommand.self, InpaintCommand.self, SwapCommand.self, ReweightCommand.self,
                      AttentionCommand.self, EditCommand.self,
                      TokensCommand.self, SpectrogramCommand.self, VocodeCommand.self, BenchCommand.self]
    )
}
