import AudioDSP
import Foundation
import Testing
import TestSupport

@Suite("auffusion serve as a process")
struct ServeProcessTests {
    /// `auffusion serve` on a free port in a process of its own, and a client of it; the process
    /// is stopped when `body` returns, if it has not stopped. `body` runs on a thread of its own,
    /// as TestServer's clients do: the shared pool is busy with the model tests.
    private func withServeProcess(_ extra: [String] = [], _ body: @Sendable (Process, LoopbackClient, URL) async throws -> Void) async throws {
        let work = try Fixtures.temporaryDirectory().appendingPathComponent("work")
        let process = Process()
        process.executableURL = try #require(CommandRunner.productsDirectory()).appendingPathComponent("auffusion")
        process.arguments = ["serve", "--port", "0", "--workdir", work.path, "--json", "--quiet"] + extra
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        let line = try #require(String(decoding: output.fileHandleForReading.availableData, as: UTF8.self).split(separator: "\n").first)
        let record = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        let client = LoopbackClient(port: try #require((record["details"] as? [String: Any])?["port"] as? Int))
        try await withTaskExecutorPreference(OwnThread.shared) { try await body(process, client, work) }
    }

    @Test("resident memory stays flat over many jobs: what a job frees goes back to the system, not kept per clip")
    func memoryOverJobs() async throws {
        // The suite's other tests keep the machine busy: no idle cut between this client's requests.
        try await withServeProcess(["--idle-seconds", "3600"]) { process, client, work in
            try await measure(client, work: work, pid: process.processIdentifier)
        }
    }

    @Test("SIGTERM stops the server at once while a page watches a running job (it used to wait for the job to end)")
    func stopsWhileWatched() async throws {
        try await withServeProcess { process, client, _ in
            let clip = try await client.upload(TestServer.clip)
            let job = try await client.submit(#"{"kind": "restyle", "clip": "\#(clip)", "version": 0, "prompt": "white noise", "strength": 1, "steps": 999}"#)
            let (opened, received) = AsyncStream.makeStream(of: Void.self)
            let watching = Task {
                defer { received.finish() }   // a stream that fails must not leave the test waiting
                _ = try? await client.stream("/api/jobs/\(job)/events") { _ in received.yield() }
            }
            var events = opened.makeAsyncIterator()
            _ = await events.next()   // the page has its first status
            let stopped = Date()
            process.terminate()
            while process.isRunning, Date().timeIntervalSince(stopped) < 20 { try await Task.sleep(for: .milliseconds(50)) }
            #expect(!process.isRunning && Date().timeIntervalSince(stopped) < 10,
                    "the server took \(Date().timeIntervalSince(stopped)) s to stop while a page watched its job")
            _ = await watching.value
        }
    }

    private func measure(_ client: LoopbackClient, work: URL, pid: Int32) async throws {
        let tone = work.deletingLastPathComponent().appendingPathComponent("tone.wav")
        try AudioFile.write(AudioBuffer(mono: (0..<48000).map { Float(0.3 * sin(Double($0) * 0.1)) }, sampleRate: 16000), to: tone)
        let clip = try await client.upload(tone)
        func fill(_ count: Int) async throws {
            for _ in 0..<count {
                let job = try await client.submit(#"{"kind": "fill", "clip": "\#(clip)", "version": 0, "prompt": "white noise", "ranges": [[0.5, 1.5]], "steps": 2}"#)
                #expect(try await client.wait(job)["state"] as? String == "done")
            }
        }
        try await fill(5)
        let before = try residentMegabytes(of: pid)
        try await fill(40)
        let after = try residentMegabytes(of: pid)
        // Before each job's freed memory was handed back, the threads' heaps kept it: 36 MB over 25
        // such jobs, 2–3 MB a job on a 2.6 s clip.
        #expect(after - before < 20, "\(before) MB after 5 jobs, \(after) MB after 45")
    }

    private func residentMegabytes(of pid: Int32) throws -> Int {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") })
        return (Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]) ?? 0) / 1024
    }
}
