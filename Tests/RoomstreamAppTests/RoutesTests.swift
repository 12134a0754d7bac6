import RoomstreamHTTP
@testable import RoomstreamApp
import Testing

struct RoutesTests {
    @Test func healthzIsAlwaysOK() {
        let router = Routes.make(readiness: Readiness()) { _, _ in }
        let response = router.respond(to: HTTPRequest(method: .get, target: "/healthz"))
        #expect(response.status.code == 200)
        #expect(String(decoding: response.body, as: UTF8.self) == #"{"status":"ok"}"#)
    }

    @Test(arguments: [
        (Readiness.State.starting, 503, "starting"), (.ready, 200, "ready"), (.draining, 503, "draining"),
    ])
    func readyzFollowsReadiness(_ state: Readiness.State, _ status: Int, _ word: String) {
        let readiness = Readiness()
        readiness.set(state)
        let router = Routes.make(readiness: readiness) { _, _ in }
        let response = router.respond(to: HTTPRequest(method: .get, target: "/readyz"))
        #expect(response.status.code == status)
        #expect(String(decoding: response.body, as: UTF8.self).contains(word))
        if status == 503 { #expect(response.header("Retry-After") != nil) }
    }
}
