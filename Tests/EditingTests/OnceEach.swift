import Synchronization

/// Values that several tests compute alike, each made once per test process: the first test to
/// ask for a key makes its value while any other asking for the same key waits, and every test
/// then gets that value. What is memoised here is deterministic (a seeded run of the embedded
/// model), so a test sees the same value whichever test asked first and however many run at once;
/// a value whose making throws is not kept, and the next test to ask makes it again.
final class OnceEach<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private final class Slot: Sendable {
        let value = Mutex<Value?>(nil)
    }

    private let slots = Mutex<[Key: Slot]>([:])

    func value(for key: Key, make: () throws -> Value) throws -> Value {
        let slot = slots.withLock { slots in
            if let slot = slots[key] { return slot }
            let slot = Slot()
            slots[key] = slot
            return slot
        }
        return try slot.value.withLock { stored in
            if let stored { return stored }
            let made = try make()
            stored = made
            return made
        }
    }
}
