@testable import RoomstreamApp
import Testing

struct ReadinessTests {
    @Test func startsAsStarting() {
        let readiness = Readiness()
        #expect(readiness.state == .starting)
        readiness.set(.ready)
        #expect(readiness.state == .ready)
    }
}
