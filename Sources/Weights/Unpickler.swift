/// A restricted pickle virtual machine that decodes the state dicts written by `torch.save`
/// and refuses everything else.
///
/// Why it is safe: Python's `pickle` can call any importable function (`GLOBAL` + `REDUCE`),
/// which is how a checkpoint can run `os.system`. This machine has no such power. It implements
/// only the data opcodes of protocols 2–5 that a state dict needs (strings, numbers, tuples, lists,
/// dicts, memo and marks) and resolves `GLOBAL`/`STACK_GLOBAL` against a fixed allow-list
/// (``allowedGlobal(module:name:)``): `collections.OrderedDict`, `torch._utils._rebuild_tensor_v2`
/// and `_rebuild_parameter`, and the typed-storage and dtype names of `torch`. "Calling" one of them
/// runs a Swift function here that builds a dict or a ``PickleTensor`` description; no other object
/// can be constructed. Any other global throws ``WeightsError/forbiddenGlobal(path:module:name:)``
/// as soon as it is read, and any other opcode (`INST`, `OBJ`, `NEWOBJ`, `EXT*`, text-protocol
/// opcodes, …) throws ``WeightsError/forbiddenOpcode(path:opcode:offset:)``.
///
/// Malformed input always throws: every read is bounds-checked, the stack and memo are checked
/// before use, cyclic or more than 128-deep structures are refused, and a pickle may not expand
/// (through shared references) into more than 4 million values. Containers live in a registry
/// and are emptied one by one afterwards, so even a million nested lists are freed without deep
/// recursion. Matches the opcode semantics of CPython's Lib/pickle.py (`_Unpickler`).
enum Unpickler {
    /// Deepest nesting of containers accepted.
    static let maxDepth = 128
    /// Largest number of values a pickle may expand to, counting shared references each time.
    static let maxExpandedValues = 4_000_000

    /// Runs the pickle that starts at `range.lowerBound` of `storage` up to its `STOP` opcode.
    /// - Parameter context: names the pickle in errors (e.g. `"archive/data.pkl"`).
    /// - Returns: the unpickled value and the file offset just after `STOP`.
    /// - Throws: ``WeightsError/forbiddenGlobal(path:module:name:)``,
    ///   ``WeightsError/forbiddenOpcode(path:opcode:offset:)`` or ``WeightsError/corrupt(path:reason:)``.
    static func load(_ storage: ByteStorage, range: Range<Int>, context: String) throws -> (value: PickleValue, end: Int) {
        let machine = PickleMachine(ByteCursor(storage, range: range, context: context))
        defer { machine.tearDown() }
        let root = try machine.run()
        var freezer = PickleFreezer(machine: machine)
        return (try freezer.freeze(root, depth: 0).value, machine.cursor.position)
    }
}

/// A mutable container while unpickling. Lists and dicts are filled after they are memoized,
/// so they need reference semantics, as in Python.
final class PickleContainer {
    enum Kind { case list, tuple, dict }
    let kind: Kind
    /// List and tuple elements; for a dict, keys and values alternate.
    var elements: [PickleNode]

    init(_ kind: Kind, _ elements: [PickleNode] = []) {
        self.kind = kind
        self.elements = elements
    }
}

/// A value on the machine's stack or in its memo.
enum PickleNode {
    case value(PickleValue)
    case container(PickleContainer)
}

/// The machine's state; see ``Unpickler``.
final class PickleMachine {
    var cursor: ByteCursor
    private var stack: [PickleNode] = []
    private var marks: [Int] = []
    private var memo: [Int: PickleNode] = [:]
    private var containers: [PickleContainer] = []

    /// File offset of the pickle's first byte; errors give offsets from here.
    private let origin: Int

    init(_ cursor: ByteCursor) {
        self.cursor = cursor
        origin = cursor.position
    }

    var path: String { cursor.storage.name }

    func corrupt(_ reason: String, at offset: Int? = nil) -> WeightsError {
        .corrupt(path: path, reason: "\(cursor.context): \(reason) at byte \((offset ?? cursor.position) - origin)")
    }

    /// Breaks every container's references so that deallocation never recurses deeply.
    func tearDown() {
        stack.removeAll()
        memo.removeAll()
        for container in containers { container.elements.removeAll() }
        containers.removeAll()
    }

    /// A new container, registered for ``tearDown()``.
    func make(_ kind: PickleContainer.Kind, _ elements: [PickleNode] = []) -> PickleNode {
        let container = PickleContainer(kind, elements)
        containers.append(container)
        return .container(container)
    }

    // MARK: - Stack

    func push(_ node: PickleNode) { stack.append(node) }
    func push(_ value: PickleValue) { stack.append(.value(value)) }

    func pop() throws -> PickleNode {
        guard stack.count > (marks.last ?? 0), let node = stack.popLast() else { throw corrupt("stack underflow") }
        return node
    }

    func top() throws -> PickleNode {
        guard stack.count > (marks.last ?? 0), let node = stack.last else { throw corrupt("stack underflow") }
        return node
    }

    /// The items above the most recent mark, removing them and the mark.
    func popMark() throws -> [PickleNode] {
        guard let mark = marks.popLast(), mark <= stack.count else { throw corrupt("no MARK on the stack") }
        let items = Array(stack[mark...])
        stack.removeSubrange(mark...)
        return items
    }

    // MARK: - The loop

    /// Executes opcodes until `STOP`; returns the value left on the stack.
    func run() throws -> PickleNode {
        while true {
            let offset = cursor.position
            let code = try cursor.uint8()
            if code == 0x2E {  // STOP
                guard let result = stack.popLast() else { throw corrupt("STOP with an empty stack", at: offset) }
                return result
            }
            try execute(code, at: offset)
        }
    }

    private func execute(_ code: UInt8, at offset: Int) throws {
        switch code {
        case 0x80:  // PROTO
            guard try cursor.uint8() <= 5 else { throw corrupt("unknown pickle protocol", at: offset) }
        case 0x95: _ = try cursor.uint64()  // FRAME: a length hint; reads stay bounds-checked regardless
        case 0x28: marks.append(stack.count)  // MARK
        case 0x30: _ = try pop()  // POP
        case 0x31: _ = try popMark()  // POP_MARK
        case 0x4E: push(.none)  // NONE
        case 0x88: push(.bool(true))  // NEWTRUE
        case 0x89: push(.bool(false))  // NEWFALSE
        case 0x4A: push(.int(Int(try cursor.int32())))  // BININT
        case 0x4B: push(.int(Int(try cursor.uint8())))  // BININT1
        case 0x4D: push(.int(Int(try cursor.uint16())))  // BININT2
        case 0x8A: push(try long(byteCount: Int(try cursor.uint8())))  // LONG1
        case 0x8B:  // LONG4
            let count = Int(try cursor.int32())
            guard count >= 0, count <= 1024 else { throw corrupt("LONG4 of \(count) bytes", at: offset) }
            push(try long(byteCount: count))
        case 0x47: push(.float(Double(bitPattern: try cursor.uint64().byteSwapped)))  // BINFLOAT: big-endian
        case 0x58: push(.string(try string(length: Int(try cursor.uint32()), at: offset)))  // BINUNICODE
        case 0x8C: push(.string(try string(length: Int(try cursor.uint8()), at: offset)))  // SHORT_BINUNICODE
        case 0x8D: push(.string(try string(length: try cursor.length64(), at: offset)))  // BINUNICODE8
        case 0x42: push(.bytes(try cursor.bytes(Int(try cursor.uint32()))))  // BINBYTES
        case 0x43: push(.bytes(try cursor.bytes(Int(try cursor.uint8()))))  // SHORT_BINBYTES
        case 0x8E: push(.bytes(try cursor.bytes(try cursor.length64())))  // BINBYTES8
        case 0x7D: push(make(.dict))  // EMPTY_DICT
        case 0x5D: push(make(.list))  // EMPTY_LIST
        case 0x29: push(make(.tuple))  // EMPTY_TUPLE
        case 0x74: push(make(.tuple, try popMark()))  // TUPLE
        case 0x85, 0x86, 0x87:  // TUPLE1, TUPLE2, TUPLE3
            var items: [PickleNode] = []
            for _ in 0..<Int(code - 0x84) { items.insert(try pop(), at: 0) }
            push(make(.tuple, items))
        case 0x71: try memoize(Int(try cursor.uint8()))  // BINPUT
        case 0x72: try memoize(Int(try cursor.uint32()))  // LONG_BINPUT
        case 0x94: try memoize(memo.count)  // MEMOIZE
        case 0x68: try recall(Int(try cursor.uint8()), at: offset)  // BINGET
        case 0x6A: try recall(Int(try cursor.uint32()), at: offset)  // LONG_BINGET
        case 0x61: try append([try pop()], at: offset)  // APPEND
        case 0x65: try append(try popMark(), at: offset)  // APPENDS
        case 0x73:  // SETITEM
            let value = try pop(), key = try pop()
            try setItems([key, value], at: offset)
        case 0x75: try setItems(try popMark(), at: offset)  // SETITEMS
        case 0x63: push(try resolveGlobal(module: try line(), name: try line(), at: offset))  // GLOBAL
        case 0x93:  // STACK_GLOBAL
            guard case .value(.string(let name)) = try pop(), case .value(.string(let module)) = try pop() else {
                throw corrupt("STACK_GLOBAL needs two strings", at: offset)
            }
            push(try resolveGlobal(module: module, name: name, at: offset))
        case 0x52:  // REDUCE
            let arguments = try pop(), callable = try pop()
            push(try reduce(callable, arguments, at: offset))
        case 0x62:  // BUILD
            let state = try pop()
            try build(on: try top(), state: state, at: offset)
        case 0x51: push(try persistentLoad(try pop(), at: offset))  // BINPERSID
        default:
            throw WeightsError.forbiddenOpcode(path: path, opcode: PickleOpcode.name(code), offset: offset - origin)
        }
    }

    // MARK: - Operands

    private func memoize(_ index: Int) throws {
        memo[index] = try top()
    }

    private func recall(_ index: Int, at offset: Int) throws {
        guard let node = memo[index] else { throw corrupt("memo entry \(index) is not defined", at: offset) }
        push(node)
    }

    private func append(_ items: [PickleNode], at offset: Int) throws {
        guard case .container(let list) = try top(), list.kind == .list else {
            throw corrupt("APPEND to something that is not a list", at: offset)
        }
        list.elements.append(contentsOf: items)
    }

    private func setItems(_ items: [PickleNode], at offset: Int) throws {
        guard case .container(let dict) = try top(), dict.kind == .dict else {
            throw corrupt("SETITEM on something that is not a dict", at: offset)
        }
        guard items.count.isMultiple(of: 2) else { throw corrupt("SETITEMS with an odd number of items", at: offset) }
        dict.elements.append(contentsOf: items)
    }

    /// A pickle string: UTF-8, validated.
    private func string(length: Int, at offset: Int) throws -> String {
        let bytes = try cursor.bytes(length)
        guard let text = String(validating: bytes, as: UTF8.self) else { throw corrupt("string is not UTF-8", at: offset) }
        return text
    }

    /// A newline-terminated name of the `GLOBAL` opcode (at most 256 bytes).
    private func line() throws -> String {
        var bytes: [UInt8] = []
        while true {
            let byte = try cursor.uint8()
            if byte == 0x0A { break }
            bytes.append(byte)
            guard bytes.count <= 256 else { throw corrupt("GLOBAL name longer than 256 bytes") }
        }
        guard let text = String(validating: bytes, as: UTF8.self) else { throw corrupt("GLOBAL name is not UTF-8") }
        return text
    }

    /// A little-endian two's-complement integer of `byteCount` bytes (`LONG1`/`LONG4`).
    private func long(byteCount: Int) throws -> PickleValue {
        var bytes = try cursor.bytes(byteCount)
        // Drop redundant sign-extension bytes, then use Int when it fits.
        while bytes.count > 1, let last = bytes.last,
              (last == 0 && bytes[bytes.count - 2] < 0x80) || (last == 0xFF && bytes[bytes.count - 2] >= 0x80) {
            bytes.removeLast()
        }
        guard bytes.count <= 8 else { return .bigInt(bytes) }
        guard let last = bytes.last else { return .int(0) }
        var value: UInt64 = last >= 0x80 ? .max : 0
        for (index, byte) in bytes.enumerated() {
            value &= ~(UInt64(0xFF) << (8 * index))
            value |= UInt64(byte) << (8 * index)
        }
        return .int(Int(Int64(bitPattern: value)))
    }
}
