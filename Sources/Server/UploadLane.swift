import Foundation

/// Runs the blocking part of uploads (decoding, converting and analysing a clip: seconds and
/// hundreds of megabytes for a long one) one at a time, on a queue of its own. On Swift's
/// cooperative pool, which every request needs, four uploads at once held both threads of a
/// 2-core machine and `/api/info` waited 104 s. At most `capacity` uploads wait behind the one
/// being processed, their bodies in memory; more are refused with 429.
package final class UploadLane: @unchecked Sendable {   // `waiting` behind `lock`
    private let queue = DispatchQueue(label: "auffusion-serve-uploads")
    private let lock = NSLock()
    private var waiting = 0
    let capacity: Int

    package init(capacity: Int) { self.capacity = capacity }

    /// `work`'s result on what `receive` gives, once the uploads before it are done; the place
    /// in the lane is taken before `receive` reads the body, so that waiting bodies are bounded.
    /// - Throws: ``ServerError`` (429) when `capacity` uploads already wait; `receive`'s and
    ///   `work`'s errors.
    package func run<Input: Sendable, Value: Sendable>(receiving receive: () async throws -> Input,
                                                      _ work: @escaping @Sendable (Input) throws -> Value) async throws -> Value {
        try lock.withLock {
            guard waiting <= capacity else {
                throw ServerError(.tooManyRequests, "an upload is being processed and \(capacity) wait; try again when one has finished")
            }
            waiting += 1
        }
        defer { lock.withLock { waiting -= 1 } }
        let input = try await receive()
        return try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try work(input) }) }
        }
    }
}
