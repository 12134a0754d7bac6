public enum RoomstreamVersion {
    public static let current = "0.1.0"
}
