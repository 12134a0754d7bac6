/// A room instance: from its first peer's first activity to the last activity of any peer
/// once every peer has left or gone silent. A room id used again later is a new instance.
public struct Room: Sendable {
    public let id: String
    /// Distinguishes instances of the same id; increases over the registry's life.
    public let instance: Int
    public private(set) var peers: [String: Peer] = [:]
    /// Peer ids in the order they joined.
    public private(set) var peerOrder: [String] = []
    /// Service time the room ended; nil while live.
    public internal(set) var endTime: Double?

    init(id: String, instance: Int) {
        self.id = id
        self.instance = instance
    }

    public var isLive: Bool { endTime == nil }

    /// First activity of any peer (service-clock epoch ms).
    public var startTime: Double? { peers.values.compactMap(\.firstActivity).min() }
    /// Last activity of any peer.
    public var lastActivity: Double? { peers.values.compactMap(\.lastActivity).max() }

    public var orderedPeers: [Peer] { peerOrder.compactMap { peers[$0] } }

    mutating func withPeer<Result>(_ peerID: String, create: Bool, _ body: (inout Peer) -> Result) -> Result? {
        if peers[peerID] == nil {
            guard create else { return nil }
            peers[peerID] = Peer(id: peerID)
            peerOrder.append(peerID)
        }
        return body(&peers[peerID, default: Peer(id: peerID)])
    }

    /// Ends the room if no peer is present any more.
    mutating func endIfEmpty() -> Bool {
        guard endTime == nil, !peers.isEmpty, peers.values.allSatisfy({ !$0.isPresent }) else { return false }
        endTime = lastActivity ?? 0
        return true
    }

    mutating func expirePeers(silentSince cutoff: Double) {
        for id in peerOrder where peers[id]?.isPresent == true && (peers[id]?.lastArrival ?? 0) <= cutoff {
            peers[id]?.leave()
        }
    }
}
