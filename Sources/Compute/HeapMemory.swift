import CMalloc

/// The C heap's hold on freed memory.
///
/// ``ComputeThreads`` keeps blocks up to 1 GB in the heap (so that a step's activations reuse
/// pages instead of faulting in fresh ones), and glibc then returns freed memory to the system
/// only from the heap's top. When a whole network is released that is the wrong trade:
/// ``returnFreed()`` hands every wholly free page back, so that the next network's pages replace
/// the last one's in the process's resident memory instead of adding to what is held.
public enum HeapMemory {
    /// Returns the freed pages the heap holds to the system (`malloc_trim(0)`).
    public static func returnFreed() {
        _ = malloc_trim(0)
    }
}
