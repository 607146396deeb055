import AudioDSP
import Editing
import Foundation
import Hummingbird
import Models
import NIOCore
import Pipeline
import ServiceLifecycle

/// The API (docs/serve.md, "API"; docs/serve-openapi.json).
extension EditorServer {
    func addPageRoutes(to router: Router<BasicRequestContext>, _ routes: RouteTable) {
        let page = self.page
        routes.add(.get, "/", to: router) { _, _ in Self.pageResponse(page, "index.html") }
        for name in page.files.keys.sorted() {
            routes.add(.get, "/\(name)", to: router) { _, _ in Self.pageResponse(page, name) }
        }
        routes.add(.get, "/api/info", to: router) { _, _ in try self.info().jsonResponse() }
        routes.add(.get, "/api/tokens", to: router) { request, _ in
            guard let prompt = request.uri.queryParameters.get("prompt") else { throw ServerError.badRequest("give ?prompt=…") }
            return try self.words(of: prompt).jsonResponse()
        }
    }

    private static func pageResponse(_ page: PageFiles, _ name: String) -> Response {
        let file = page.files[name]!
        return Response(status: .ok, headers: [.contentType: file.type, .cacheControl: "no-cache",
                                               .contentSecurityPolicy: "default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: file.data)))
    }

    func addClipRoutes(to router: Router<BasicRequestContext>, _ routes: RouteTable) {
        routes.add(.post, "/api/clips", to: router) { request, _ in try await self.upload(request).jsonResponse(status: .created) }
        routes.add(.get, "/api/clips/:clip", to: router) { _, context in
            try self.folder.summary(try context.parameters.require("clip"), canvasSeconds: self.canvasSeconds).jsonResponse()
        }
        routes.add(.delete, "/api/clips/:clip", to: router) { _, context in
            try self.deleteClip(try context.parameters.require("clip"))
            return Response(status: .noContent, headers: [.cacheControl: "no-store"])
        }
        routes.add(.get, "/api/clips/:clip/files/**", to: router) { request, context in
            let id = try context.parameters.require("clip")
            let url = try self.folder.file(try Self.fileName(in: request.uri.path, clip: id), of: id)
            var headers: HTTPFields = [.contentType: Self.contentType(of: url), .cacheControl: "no-store", .acceptRanges: "bytes"]
            if request.uri.queryParameters.get("download") != nil {
                headers[.contentDisposition] = "attachment; filename=\"\(url.lastPathComponent)\""
            }
            // A Range header means something on GET only (RFC 9110, 14.2); HEAD answers the whole.
            return try Self.fileResponse(url, range: request.method == .get ? request.headers[.range] : nil, headers: headers)
        }
    }

    func addJobRoutes(to router: Router<BasicRequestContext>, _ routes: RouteTable) {
        routes.add(.post, "/api/jobs", to: router) { request, _ in
            let body = try await request.body.collect(upTo: 1 << 20)
            return try self.submit(EditRequest.decode(Data(body.readableBytesView))).jsonResponse(status: .accepted)
        }
        routes.add(.get, "/api/jobs", to: router) { _, _ in try self.queue.all().jsonResponse() }
        routes.add(.get, "/api/jobs/:job", to: router) { _, context in try self.queue.status(try context.parameters.require("job")).jsonResponse() }
        routes.add(.delete, "/api/jobs/:job", to: router) { _, context in try self.cancel(try context.parameters.require("job")).jsonResponse() }
        routes.add(.get, "/api/jobs/:job/events", to: router) { _, context in
            let events = try self.queue.events(try context.parameters.require("job"))
            let body = ResponseBody { writer in
                // Ended at a graceful shutdown, which waits for open responses: an open page
                // kept the server up until its job ended.
                try await withGracefulShutdownHandler {
                    for await event in events {
                        guard let status = event else {
                            try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                            continue
                        }
                        let json = String(decoding: try JSONEncoder().encode(status), as: UTF8.self)
                        try await writer.write(ByteBuffer(string: "event: status\ndata: \(json)\n\n"))
                    }
                } onGracefulShutdown: {
                    self.queue.endStreams()
                }
                try await writer.finish(nil)
            }
            return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-store"], body: body)
        }
    }

    /// The file name a files URL asks for: the path after `/api/clips/ID/files/`, percent-decoded
    /// (a word's heatmap is `v1-maps/01-café.png`; a client may encode its `/` as `%2F` too).
    static func fileName(in path: String, clip id: String) throws -> String {
        let prefix = "/api/clips/\(id)/files/"
        guard path.hasPrefix(prefix), let name = String(path.dropFirst(prefix.count)).removingPercentEncoding else {
            throw ServerError.notFound("clip \(id.prefix(40)) has no file \"\(path.suffix(80))\"")
        }
        return name
    }

    /// What a `Range` header asks of a file of `size` bytes.
    enum ByteRange: Equatable {
        case whole
        case part(ClosedRange<Int>)
        case unsatisfiable
    }

    /// The one byte range a `Range: bytes=…` header asks for (RFC 9110, 14.1.2: `A-B`, `A-`,
    /// `-N`); a start past the end is unsatisfiable; a header this does not read (several ranges,
    /// another unit, `B` before `A`) asks for the whole file, as the RFC allows.
    static func byteRange(_ header: String?, size: Int) -> ByteRange {
        guard let header, header.hasPrefix("bytes="), !header.contains(",") else { return .whole }
        let ends = header.dropFirst("bytes=".count).split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        guard ends.count == 2, ends.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isNumber } }), !(ends[0].isEmpty && ends[1].isEmpty) else {
            return .whole
        }
        // A number too large for Int lies past any file.
        let position = { (text: String) in Int(text) ?? Int.max }
        if ends[0].isEmpty {
            let suffix = position(ends[1])
            guard suffix > 0, size > 0 else { return .whole }
            return .part((size - min(suffix, size))...(size - 1))
        }
        let first = position(ends[0]), last = ends[1].isEmpty ? Int.max : position(ends[1])
        guard first <= last else { return .whole }
        guard first < size else { return .unsatisfiable }
        return .part(first...min(last, size - 1))
    }

    /// The file at `url`, or the byte range `header` asks for as 206 with `Content-Range` (416 past
    /// the end). A browser's audio element seeks only in a file served so, and asks for a range
    /// at every seek: only that range is read.
    static func fileResponse(_ url: URL, range header: String?, headers: HTTPFields) throws -> Response {
        let size = try (FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0
        var headers = headers
        switch byteRange(header, size: size) {
        case .whole:
            return Response(status: .ok, headers: headers, body: try streamed(url, bytes: 0..<size))
        case .unsatisfiable:
            var response = ServerError.response(status: .rangeNotSatisfiable,
                                                message: "the range \(header?.prefix(80) ?? "") starts past the end of the file's \(size) bytes")
            response.headers[.contentRange] = "bytes */\(size)"
            response.headers[.acceptRanges] = "bytes"
            return response
        case .part(let bytes):
            headers[.contentRange] = "bytes \(bytes.lowerBound)-\(bytes.upperBound)/\(size)"
            return Response(status: .partialContent, headers: headers, body: try streamed(url, bytes: bytes.lowerBound..<(bytes.upperBound + 1)))
        }
    }

    /// `bytes` of the file at `url`, read and written 256 KB at a time: a whole file in memory per
    /// download (six slow readers of a 230 MB clip held 1.4 GB) is what a slow client keeps.
    private static func streamed(_ url: URL, bytes: Range<Int>) throws -> ResponseBody {
        let file = try FileHandle(forReadingFrom: url)
        return ResponseBody(contentLength: bytes.count) { writer in
            defer { try? file.close() }
            try file.seek(toOffset: UInt64(bytes.lowerBound))
            var left = bytes.count
            while left > 0, let chunk = try file.read(upToCount: min(left, 256 << 10)), !chunk.isEmpty {
                try await writer.write(ByteBuffer(bytes: chunk))
                left -= chunk.count
            }
            // Shorter than its Content-Length said: end the connection rather than the response.
            guard left == 0 else { throw ServerError(.internalServerError, "\(url.lastPathComponent) ended \(left) bytes early") }
            try await writer.finish(nil)
        }
    }

    private static func contentType(of url: URL) -> String {
        switch url.pathExtension.lowercased() {
        case "png": "image/png"
        case "json": "application/json"
        case "wav": "audio/wav"
        case "flac": "audio/flac"
        case "ogg": "audio/ogg"
        case "aiff", "aif": "audio/aiff"
        default: "application/octet-stream"
        }
    }
}

// MARK: - What the routes do

extension EditorServer {
    /// What the page needs to know about the model and the limits.
    struct Info: Encodable {
        var canvasSeconds: Double
        var sampleRate: Int
        var maximumFrequency: Double
        /// The centre frequency of every mel row, lowest first, for the spectrogram's axis.
        var melFrequencies: [Double]
        var defaultSteps: Int
        /// The most steps the model's scheduler takes (a run with another is told its own).
        var maximumSteps: Int
        var defaultGuidance: Float
        /// The guidance each start's method edits with, by the page's start names: the model's
        /// default for SDEdit and a DDIM inversion, ZETA's 12 for a DDPM inversion.
        var editGuidance: [String: Float]
        var maximumUploadBytes: Int
        var maximumUploadSeconds: Double
        var expiryHours: Double
        var needsToken: Bool

        enum CodingKeys: String, CodingKey {
            case canvasSeconds = "canvas_seconds", sampleRate = "sample_rate", maximumFrequency = "maximum_frequency"
            case melFrequencies = "mel_frequencies", defaultSteps = "default_steps", maximumSteps = "max_steps", defaultGuidance = "default_guidance"
            case editGuidance = "edit_guidance"
            case maximumUploadBytes = "max_upload_bytes", maximumUploadSeconds = "max_upload_seconds"
            case expiryHours = "expiry_hours", needsToken = "needs_token"
        }
    }

    func info() -> Info {
        let mel = pipeline.melParameters
        let request = GenerationRequest(prompt: "")
        return Info(canvasSeconds: canvasSeconds, sampleRate: mel.sampleRate, maximumFrequency: mel.maximumFrequency,
                    melFrequencies: Array(MelFilterbank.melFrequencies(count: mel.melBinCount + 2, minimum: mel.minimumFrequency,
                                                                 maximum: mel.maximumFrequency).dropFirst().dropLast()),
                    defaultSteps: request.stepCount, maximumSteps: maximumSteps, defaultGuidance: request.guidanceScale,
                    editGuidance: ["sdedit": request.guidanceScale, "inversion": InversionSettings(method: .ddim).editGuidance,
                                   "ddpm": InversionSettings(method: .ddpm).editGuidance],
                    maximumUploadBytes: configuration.maximumUploadBytes, maximumUploadSeconds: configuration.maximumUploadSeconds,
                    expiryHours: configuration.expirySeconds / 3600, needsToken: configuration.token != nil)
    }

    /// The words of a prompt as the tokenizer splits them: one reweight slider each.
    struct Words: Encodable {
        var words: [String]
        var tokens: Int
    }

    func words(of prompt: String) throws -> Words {
        do { try CLIPTokenizer.validate(prompt: prompt) } catch { throw ServerError.badRequest("\(error)") }
        let tokens = PromptTokens(prompt, tokenizer: pipeline.tokenizer)
        // Only words with a token inside the text encoder's window can be reweighted.
        let addressable = tokens.words.filter { $0.tokenPositions.contains { $0 < PromptTokens.tokenWindow } }
        return Words(words: addressable.map(\.text), tokens: tokens.ids.count)
    }

    /// Checks an upload with libsndfile (before anything else reads it) against the limits and
    /// keeps it as version 0 of a new clip.
    func upload(_ request: Request) async throws -> ClipSummary {
        let limit = configuration.maximumUploadBytes
        let tooLarge = ServerError(.contentTooLarge, String(format: "the upload is larger than this server's limit of %.1f MB (--max-upload-mb)",
                                                            Double(limit) / 1_048_576))
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit { throw tooLarge }
        let name = request.uri.queryParameters.get("name") ?? "upload.wav"
        return try await uploads.run(receiving: {
            let body: ByteBuffer
            do { body = try await request.body.collect(upTo: limit) } catch is NIOTooManyBytesError { throw tooLarge }
            guard body.readableBytes <= limit else { throw tooLarge }
            guard body.readableBytes > 0 else { throw ServerError.badRequest("the upload is empty; send the audio file as the request body") }
            return body
        }, { body in try self.keep(body, name: name) })
    }

    /// Checks an upload's bytes and keeps them as version 0 of a new clip (on ``UploadLane``).
    private func keep(_ body: ByteBuffer, name: String) throws -> ClipSummary {
        try sweep()
        let incoming = folder.incomingFolder.appendingPathComponent(WorkFolder.newID())
        defer { try? FileManager.default.removeItem(at: incoming) }
        try Data(body.readableBytesView).write(to: incoming)
        try checkAudio(at: incoming)
        // Stored as what the bytes are, whatever the name says; a format the toolkit does not
        // write (MP3, CAF, AU, …) is stored as WAV, in its own sample format where WAV has it.
        let incomingFormat = try AudioReader(incoming).format
        let detected = incomingFormat.container
        let format = detected ?? .wav
        let id = try folder.newClip(name: String(name.prefix(200)), format: format)
        do {
            let file = folder.folder(of: id).appendingPathComponent("v0.\(format.rawValue)")
            if detected != nil {
                try FileManager.default.moveItem(at: incoming, to: file)
            } else {
                try AudioFile.write(try AudioFile.read(incoming), to: file, encoding: incomingFormat.encoding ?? .float32)
            }
            let version: Version
            do { version = try runner.describe(file, number: 0, kind: "upload", in: id) } catch {
                throw ServerError(.unprocessableContent, "the upload cannot be analysed: \(error)")
            }
            try folder.add(version, to: id)
        } catch {
            folder.remove(id)
            throw error
        }
        return try folder.summary(id, canvasSeconds: canvasSeconds)
    }

    /// Refuses a file libsndfile cannot decode, longer than the limit, or larger decoded than
    /// ``ServerConfiguration/maximumDecodedBytes``.
    private func checkAudio(at url: URL) throws {
        let seconds = configuration.maximumUploadSeconds, cap = configuration.maximumDecodedBytes
        var byLength = 0
        do {
            let reader = try AudioReader(url)
            byLength = Int(min(seconds * reader.sampleRate + 1, Double(Int.max / 64))) * reader.channelCount * 4
            _ = try AudioFile.read(url, limits: AudioReadLimits(maximumDecodedBytes: min(byLength, cap)))
        } catch AudioFileError.tooLarge where byLength > cap {
            throw ServerError(.contentTooLarge, String(format: "decoded, the clip would take more than this server's %g MB per clip (--max-seconds of 48 kHz stereo); send fewer channels or a lower rate", Double(cap) / 1e6))
        } catch AudioFileError.tooLarge {
            throw ServerError(.contentTooLarge, String(format: "the clip is longer than this server's limit of %g s (--max-seconds)", seconds))
        } catch let error as AudioFileError {
            throw ServerError(.unprocessableContent, "the upload is not audio this server can read: \(Self.reason(error)) (send WAV, FLAC, OGG, AIFF or another format libsndfile reads)")
        }
    }

    /// An audio error without the temporary path it names.
    private static func reason(_ error: AudioFileError) -> String {
        switch error {
        case .unreadable(_, let reason): reason
        case .empty: "it holds no samples"
        case .nonFiniteSamples: "it holds NaN or infinite samples"
        default: "\(error)"
        }
    }

    /// Deletes a clip whose jobs are all final, with its files and its finished jobs: 404 for an
    /// unknown clip, 409 while a job of it is queued or running.
    func deleteClip(_ id: String) throws {
        _ = try folder.clip(id)
        try queue.withoutJobs(of: id) { folder.remove(id) }
    }

    /// Cancels job `id`. A generation cancelled before it ran takes along the clip made for it,
    /// still empty (one cancelled while running removes it itself, as a failed one does).
    func cancel(_ id: String) throws -> JobStatus {
        let status = try queue.cancel(id)
        if status.kind == .generate, status.state == .cancelled, let clip = status.clip, (try? folder.clip(clip))?.versions.isEmpty == true {
            folder.remove(clip)
        }
        return status
    }

    /// Queues an edit (or a generation, which makes a new clip) after checking its plan.
    func submit(_ request: EditRequest) throws -> JobStatus {
        try sweep()
        var request = request
        let clip: String?, parent: Version?, format: AudioContainer
        if request.kind == .generate {
            guard request.clip == nil, request.version == nil else { throw ServerError.badRequest("generate: a generation makes a new clip; drop \"clip\" and \"version\"") }
            (clip, parent, format) = (nil, nil, .wav)
        } else {
            guard let given = request.clip else { throw ServerError.badRequest("\(request.kind.rawValue): give \"clip\", the id of an uploaded or generated clip") }
            let known = try folder.clip(given)
            let number = request.version ?? known.versions.count - 1
            (clip, parent, format) = (given, try folder.version(number, of: given), known.format)
        }
        request.version = parent?.number
        let seed = request.seed ?? 0
        let document = try request.document(input: parent?.file, output: "v_.\(format.rawValue)")
        do {
            // All that can be checked before the job runs (the clip is encoded only then): a job
            // that would fail on its steps, its prompt or its words is refused now, not queued.
            try document.plan(clipDuration: parent?.seconds, pipeline: pipeline).validateWithoutClip(pipeline: pipeline)
        } catch {
            throw ServerError.badRequest("\(error)")
        }
        // A generation's clip is made only for a request that passed its checks, and goes again
        // when the queue refuses the job or the job makes no version.
        let id = try clip ?? folder.newClip(name: "generated.wav", format: .wav)
        let (folder, runner, edit, generated) = (self.folder, self.runner, request, clip == nil)
        do {
            return try queue.submit(id: WorkFolder.newID(), kind: request.kind, clip: id, admit: { _ = try folder.clip(id) }) { progress in
                let number = try folder.clip(id).versions.count
                do {
                    let planned = try edit.document(input: parent?.file, output: "v\(number).\(format.rawValue)")
                    let version = try runner.run(planned, seed: seed, kind: edit.kind, clip: id, number: number, parent: parent,
                                                 progress: progress)
                    try folder.add(version, to: id)
                } catch {
                    if generated { folder.remove(id) }
                    throw error
                }
                return number
            }
        } catch {
            if generated { folder.remove(id) }
            throw error
        }
    }
}
