/// The allow-list of the restricted ``Unpickler`` and the Swift implementations of the few
/// callables it permits. Matches what torch/serialization.py and torch/_utils.py emit for a
/// state dict: `collections.OrderedDict()`, `_rebuild_tensor_v2(storage, storage_offset, size,
/// stride, requires_grad, backward_hooks[, metadata])`, `_rebuild_parameter(data, requires_grad,
/// backward_hooks)` and `_rebuild_parameter_with_state(…, state)`, with storages named by the
/// persistent id `('storage', torch.<Type>Storage, key, location, numel[, view_metadata])`.
extension PickleMachine {
    /// Callables of the allow-list, by module and name.
    private static let callables: Set<[String]> = [
        ["collections", "OrderedDict"],
        ["torch._utils", "_rebuild_tensor_v2"],
        ["torch._utils", "_rebuild_parameter"],
        ["torch._utils", "_rebuild_parameter_with_state"],
    ]

    /// Whether `module.name` is allowed; allowed globals become ``PickleValue/global(module:name:)``.
    static func isAllowed(module: String, name: String) -> Bool {
        if callables.contains([module, name]) { return true }
        guard module == "torch" else { return false }
        return ScalarType(torchStorageName: name) != nil || ScalarType(torchDTypeName: name) != nil
    }

    func resolveGlobal(module: String, name: String, at offset: Int) throws -> PickleNode {
        guard Self.isAllowed(module: module, name: name) else {
            throw WeightsError.forbiddenGlobal(path: path, module: module, name: name)
        }
        return .value(.global(module: module, name: name))
    }

    // MARK: - REDUCE

    func reduce(_ callable: PickleNode, _ arguments: PickleNode, at offset: Int) throws -> PickleNode {
        guard case .value(.global(let module, let name)) = callable else {
            throw corrupt("REDUCE on something that is not an allowed callable", at: offset)
        }
        guard case .container(let tuple) = arguments, tuple.kind == .tuple else {
            throw corrupt("REDUCE arguments are not a tuple", at: offset)
        }
        let args = tuple.elements
        switch (module, name) {
        case ("collections", "OrderedDict"):
            return try orderedDict(args, at: offset)
        case ("torch._utils", "_rebuild_tensor_v2"):
            return .value(.tensor(try rebuildTensor(args, at: offset)))
        case ("torch._utils", "_rebuild_parameter"), ("torch._utils", "_rebuild_parameter_with_state"):
            guard (3...4).contains(args.count), case .value(.tensor(let tensor)) = args[0] else {
                throw corrupt("\(name) needs a tensor", at: offset)
            }
            return .value(.tensor(tensor))
        default:
            throw corrupt("\(module).\(name) cannot be called", at: offset)
        }
    }

    /// `OrderedDict()` or `OrderedDict([(key, value), …])`.
    private func orderedDict(_ args: [PickleNode], at offset: Int) throws -> PickleNode {
        guard let argument = args.first else { return make(.dict) }
        guard args.count == 1, case .container(let pairs) = argument, pairs.kind != .dict else {
            throw corrupt("OrderedDict takes one list of pairs", at: offset)
        }
        var elements: [PickleNode] = []
        for pair in pairs.elements {
            guard case .container(let item) = pair, item.kind == .tuple || item.kind == .list, item.elements.count == 2 else {
                throw corrupt("OrderedDict item is not a pair", at: offset)
            }
            elements.append(contentsOf: item.elements)
        }
        return make(.dict, elements)
    }

    /// `_rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])`.
    private func rebuildTensor(_ args: [PickleNode], at offset: Int) throws -> PickleTensor {
        guard (6...7).contains(args.count), case .value(.storage(let storage)) = args[0],
              case .value(.int(let storageOffset)) = args[1],
              let shape = integers(args[2]), let strides = integers(args[3]),
              case .value(.bool(let requiresGrad)) = args[4]
        else { throw corrupt("malformed _rebuild_tensor_v2 arguments", at: offset) }
        guard storageOffset >= 0, shape.count == strides.count, shape.count <= StoredTensor.maxRank,
              shape.allSatisfy({ $0 >= 0 }), strides.allSatisfy({ $0 >= 0 })
        else { throw corrupt("tensor with offset \(storageOffset), size \(shape), stride \(strides)", at: offset) }
        return PickleTensor(storage: storage, storageOffset: storageOffset, shape: shape, strides: strides,
                            requiresGrad: requiresGrad)
    }

    /// The elements of a tuple of Python ints.
    private func integers(_ node: PickleNode) -> [Int]? {
        guard case .container(let tuple) = node, tuple.kind == .tuple else { return nil }
        var values: [Int] = []
        for element in tuple.elements {
            guard case .value(.int(let value)) = element else { return nil }
            values.append(value)
        }
        return values
    }

    // MARK: - BUILD and BINPERSID

    /// `BUILD` sets attributes. Only the `_metadata` that `Module.state_dict()` attaches to its
    /// OrderedDict, and state on tensors, are accepted; both are ignored.
    func build(on target: PickleNode, state: PickleNode, at offset: Int) throws {
        switch target {
        case .container(let container) where container.kind == .dict: return
        case .value(.tensor): return
        default: throw corrupt("BUILD on an object that has no attributes", at: offset)
        }
    }

    /// Resolves `('storage', torch.<Type>Storage, key, location, numel[, view_metadata])`.
    func persistentLoad(_ identifier: PickleNode, at offset: Int) throws -> PickleNode {
        guard case .container(let tuple) = identifier, tuple.kind == .tuple, (5...6).contains(tuple.elements.count),
              case .value(.string("storage")) = tuple.elements[0],
              case .value(.global("torch", let typeName)) = tuple.elements[1],
              case .value(.string(let key)) = tuple.elements[2],
              case .value(.string(let location)) = tuple.elements[3],
              case .value(.int(let count)) = tuple.elements[4], count >= 0
        else { throw corrupt("persistent id is not a torch storage reference", at: offset) }
        guard let dtype = ScalarType(torchStorageName: typeName) else {
            throw corrupt("torch.\(typeName) is not a storage type", at: offset)
        }
        if tuple.elements.count == 6 {
            guard case .value(.none) = tuple.elements[5] else {
                throw WeightsError.unsupportedFormat(path: path, reason: "storage views (pre-1.0 PyTorch) are not supported")
            }
        }
        return .value(.storage(PickleStorage(dtype: dtype, key: key, location: location, count: count)))
    }
}
