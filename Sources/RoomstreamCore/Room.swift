/// A room instance: from its first peer's first activity to the last activity of any peer
/// once every peer has left or gone silent. A room id used again later is a new instance.
public struct Room: Sendable, Codable {
    public let id: String
    /// Distinguishes instances of the same id; increases over the registry's life.
    public let instance: Int
    /// Peers in the order they joined. An array rather than a dictionary of peers: a
    /// dictionary's spare buckets would hold whole `Peer` values. Small rooms are searched
    /// linearly; from `indexedAbove` peers on, an id → position index is kept.
    public private(set) var orderedPeers: [Peer] = []
    private var positions: [String: Int]?
    static let indexedAbove = 16
    /// Service time the room ended; nil while live.
    public internal(set) var endTime: Double?
    /// The registry has an expiry entry for this room.
    var expiryScheduled = false
    /// Heap bytes the registry counted for this room (`heapBytes` as of the last change).
    var accountedBytes = 0

    init(id: String, instance: Int) {
        self.id = id
        self.instance = instance
    }

    public var isLive: Bool { endTime == nil }

    /// Heap bytes of the room without its peers' own allocations: its id, the peers array and
    /// the id index (see `MemoryFootprint`).
    var ownHeapBytes: Int {
        MemoryFootprint.string(id) + MemoryFootprint.array(orderedPeers) + (positions.map { MemoryFootprint.dictionary($0) + $0.keys.reduce(0) { $0 + MemoryFootprint.string($1) } } ?? 0)
    }

    /// Everything the room holds on the heap, its peers included.
    var heapBytes: Int { ownHeapBytes + orderedPeers.reduce(0) { $0 + $1.heapBytes } }
    public var peerCount: Int { orderedPeers.count }

    public func peer(_ id: String) -> Peer? { position(of: id).map { orderedPeers[$0] } }
    /// Whether the room has the peer, without copying it out (a copy retains all its storage).
    func hasPeer(_ id: String) -> Bool { position(of: id) != nil }

    private func position(of id: String) -> Int? {
        if let positions { return positions[id] }
        return orderedPeers.firstIndex { $0.id == id }
    }

    /// First activity of any peer (service-clock epoch ms).
    public var startTime: Double? { orderedPeers.compactMap(\.firstActivity).min() }
    /// Last activity of any peer.
    public var lastActivity: Double? { orderedPeers.compactMap(\.lastActivity).max() }

    mutating func withPeer<Result>(_ peerID: String, create: Bool, _ body: (inout Peer) -> Result) -> Result? {
        if position(of: peerID) == nil {
            guard create else { return nil }
            orderedPeers.append(Peer(id: peerID))
            if positions != nil {
                positions?[peerID] = orderedPeers.count - 1
            } else if orderedPeers.count > Self.indexedAbove {
                positions = Dictionary(uniqueKeysWithValues: orderedPeers.enumerated().map { ($1.id, $0) })
            }
        }
        guard let position = position(of: peerID) else { return nil }
        return body(&orderedPeers[position])
    }

    /// Ends the room if no peer is present any more.
    mutating func endIfEmpty() -> Bool {
        guard endTime == nil, !orderedPeers.isEmpty, orderedPeers.allSatisfy({ !$0.isPresent }) else { return false }
        endTime = lastActivity ?? 0
        return true
    }

    /// The oldest last arrival among present peers: the earliest one can time out from it.
    var earliestPresentArrival: Double? { orderedPeers.filter(\.isPresent).map(\.lastArrival).min() }

    mutating func expirePeers(silentSince cutoff: Double) {
        for index in orderedPeers.indices where orderedPeers[index].isPresent && orderedPeers[index].lastArrival <= cutoff {
            orderedPeers[index].leave()
        }
    }
}
