import ArgumentParser
import Foundation
import Server
import Toolkit

/// `auffusion serve`: the spectrogram editor in the browser (docs/serve.md).
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the spectrogram editor in the browser: upload, select, edit, listen, undo, download.",
        discussion: """
            Loads the model once and runs one job at a time, the rest queued. Binds to 127.0.0.1; another \
            address needs a token (--token, or one is made and printed once), which every API call must carry. \
            Uploads, results and plans stay in --workdir and are deleted --keep-hours after a clip's last change.
            """
    )

    @OptionGroup var model: ModelOptions

    @Option(help: "Address to bind (another than loopback needs a token).")
    var host = "127.0.0.1"

    @Option(help: "Port (0: any free port).")
    var port = 8080

    @Option(help: ArgumentHelp("Work folder for uploads and results (created if missing).", valueName: "dir"))
    var workdir = "auffusion-serve"

    @Option(help: "The API token (at least 16 letters, digits, - or _); made and printed when another address than loopback has none.")
    var token: String?

    @Option(name: .customLong("max-upload-mb"), help: "Largest upload, in MB.")
    var maximumUploadMegabytes = 50.0

    @Option(name: .customLong("max-seconds"), help: "Longest upload, in seconds of audio.")
    var maximumSeconds = 600.0

    @Option(name: .customLong("max-queue"), help: "Jobs that may wait behind the running one.")
    var maximumQueue = 8

    @Option(name: .customLong("keep-hours"), help: "Hours a clip is kept after its last change.")
    var keepHours = 24.0

    @Option(name: .customLong("idle-seconds"), help: "Seconds a connection may send nothing (a stalled upload, an idle keep-alive) before it is closed; responses being written are never cut.")
    var idleSeconds = 60.0

    @OptionGroup var report: ReportOptions

    func run() async throws {
        var settings = ServerConfiguration(workFolder: URL(fileURLWithPath: workdir))
        settings.host = host
        settings.port = port
        settings.token = token
        settings.maximumUploadBytes = Int(maximumUploadMegabytes * 1_048_576)
        settings.maximumUploadSeconds = maximumSeconds
        settings.maximumQueuedJobs = maximumQueue
        settings.expirySeconds = keepHours * 3600
        settings.idleSeconds = idleSeconds
        if !settings.isLoopback, settings.token == nil { settings.token = ServerConfiguration.newToken() }
        try usage(settings.validate)
        let server = try EditorServer(configuration: settings, pipeline: try model.load(report, residency: .allLoaded))
        let (host, token, json) = (host.contains(":") ? "[\(host)]" : host, settings.token, report.json)
        try await server.run { port in
            let address = "http://\(host):\(port)/"
            var line = token.map { "open \(address)#token=\($0)  (the token is printed only now)" } ?? "open \(address)"
            if json {
                var record = RunRecord(command: "serve", elapsed: 0)
                record.addDetails(["url": .string(address), "port": .number(Double(port))])
                if let token { record.addDetails(["token": .string(token)]) }
                line = (try? record.jsonLine()) ?? line
            }
            Console.output(line + "\n")
        }
    }
}
