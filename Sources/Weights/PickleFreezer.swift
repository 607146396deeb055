/// Turns the machine's containers into immutable ``PickleValue``s, refusing cycles, excessive
/// depth and excessive expansion through shared references.
struct PickleFreezer {
    let machine: PickleMachine
    private var cache: [ObjectIdentifier: (value: PickleValue, size: Int)] = [:]
    private var inProgress: Set<ObjectIdentifier> = []

    init(machine: PickleMachine) { self.machine = machine }

    /// The value of `node` and how many values it expands to.
    mutating func freeze(_ node: PickleNode, depth: Int) throws -> (value: PickleValue, size: Int) {
        let container: PickleContainer
        switch node {
        case .value(let value): return (value, 1)
        case .container(let box): container = box
        }
        let id = ObjectIdentifier(container)
        if let cached = cache[id] { return cached }
        guard !inProgress.contains(id) else { throw machine.corrupt("the pickle contains a cycle") }
        guard depth < Unpickler.maxDepth else {
            throw machine.corrupt("containers are nested more than \(Unpickler.maxDepth) deep")
        }
        inProgress.insert(id)
        defer { inProgress.remove(id) }
        var size = 1
        var children: [PickleValue] = []
        children.reserveCapacity(container.elements.count)
        for element in container.elements {
            let child = try freeze(element, depth: depth + 1)
            size += child.size
            guard size <= Unpickler.maxExpandedValues else {
                throw machine.corrupt("the pickle expands to more than \(Unpickler.maxExpandedValues) values")
            }
            children.append(child.value)
        }
        let value: PickleValue = switch container.kind {
        case .list: .list(children)
        case .tuple: .tuple(children)
        case .dict: .dict(Self.dictEntries(children))
        }
        cache[id] = (value, size)
        return (value, size)
    }

    /// Alternating keys and values as dict entries; a repeated key keeps its first position and
    /// its last value, as in Python.
    private static func dictEntries(_ flat: [PickleValue]) -> [PickleValue.DictEntry] {
        var entries: [PickleValue.DictEntry] = []
        var positions: [PickleValue: Int] = [:]
        var index = 0
        while index + 1 < flat.count {
            let (key, value) = (flat[index], flat[index + 1])
            if let position = positions[key] {
                entries[position].value = value
            } else {
                positions[key] = entries.count
                entries.append(.init(key: key, value: value))
            }
            index += 2
        }
        return entries
    }
}
