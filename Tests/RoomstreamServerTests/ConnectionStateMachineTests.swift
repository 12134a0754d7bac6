import RoomstreamHTTP
@testable import RoomstreamServer
import Testing

/// The connection lifecycle, driven with explicit instants: no sleeping.
struct ConnectionStateMachineTests {
    let timeouts = ConnectionTimeouts(
        headerTimeout: .seconds(10), bodyTimeout: .seconds(30), idleTimeout: .seconds(60),
        writeTimeout: .seconds(20), lingerTimeout: .seconds(2))

    func at(_ seconds: Double) -> ServerInstant { ServerInstant(nanoseconds: UInt64(seconds * 1e9)) }

    @Test func freshConnectionMustSendAHeadWithinTheHeaderTimeout() {
        var machine = ConnectionStateMachine(timeouts: timeouts, now: at(0))
        #expect(machine.deadlinePassed(now: at(9.9)) == .none)
        #expect(machine.deadlinePassed(now: at(10)) == .close)
        #expect(machine.state == .closed)
    }

    @Test func headerTimeoutRunsFromAcceptForTheFirstRequest() {
        var machine = ConnectionStateMachine(timeouts: timeouts, now: at(0))
        // The first byte arrives late: the deadline stays at accept + 10 s.
        _ = machine.needMoreData(partialRequest: true, readingBody: false, now: at(9))
        #expect(machine.state == .readingHead)
        #expect(machine.deadline == at(10))
        #expect(machine.deadlinePassed(now: at(10)) == .sendTimeoutResponse)
        #expect(machine.state == .writing)
    }

    @Test func bodyTimeoutStartsWhenTheHeadIsComplete() {
        var machine = ConnectionStateMachine(timeouts: timeouts, now: at(0))
        _ = machine.needMoreData(partialRequest: true, readingBody: false, now: at(1))
        _ = machine.needMoreData(partialRequest: true, readingBody: true, now: at(2))
        #expect(machine.state == .readingBody)
        #expect(machine.deadline == at(32))
        // More body bytes do not extend it.
        _ = machine.needMoreData(partialRequest: true, readingBody: true, now: at(20))
        #expect(machine.deadline == at(32))
        #expect(machine.deadlinePassed(now: at(32)) == .sendTimeoutResponse)
    }

    @Test func keepAliveCycle() {
        var machine = ConnectionStateMachine(timeouts: timeouts, now: at(0))
        #expect(machine.requestReceived() == .none)
        #expect(machine.state == .processing)
        #expect(machine.deadline == nil)
        #expect(machine.responseReady(keepAlive: true, now: at(1)) == .sendResponse(close: false))
        #expect(machine.deadline == at(21))
        machine.writeProgressed(now: at(5))
        #expect(machine.deadline == at(25))
        #expect(machine.writeCompleted(now: at(6)) == .parseBuffered)
        #expect(machine.state == .awaitingRequest)
        #expect(machine.deadline == at(66))
        // The next request's first byte switches to the (shorter) header timeout.
        _ = machine.needMoreData(partialRequest: true, readingBody: false, now: at(7))
        #expect(machine.deadline == at(17))
    }

    @Test func idleKeepAliveClosesSilently() {
        var machine = ConnectionStateMachine(timeouts: timeouts, now: at(0))
        _ = machine.requestReceived()
        _ = machine.responseReady(keepAlive: true, now: at(0))
        _ = machine.writeCompleted(now: at(0))
        #expect(machine.deadlinePassed(now: at(60)) == .close)
    }

    @Test func closingResponseLingersThenCloses() {
        var machine = ConnectionStateMachine(timeouts: timeouts, now: at(0))
        _ = machine.requestReceived()
        #expect(machine.responseReady(keepAlive: false, now: at(1)) == .sendResponse(close: true))
        #expect(machine.writeCompleted(now: at(1)) == .lingeringClose)
        #expect(machine.state == .lingering)
        #expect(machine.deadlinePassed(now: at(3)) == .close)
    }

    @Test func lingeringEndsAtClientEOF() {
        var machine = ConnectionStateMachine(timeouts: timeouts, now: at(0))
        _ = machine.parseFailed(now: at(0))
        _ = machine.writeCompleted(now: at(0))
        #expect(machine.peerClosed() == .close)
    }

    @Test func writeThatMakesNoProgressTimesOut() {
        var machine = ConnectionStateMachine(timeouts: timeouts, now: at(0))
        _ = machine.requestReceived()
        _ = machine.responseReady(keepAlive: true, now: at(0))
        #expect(machine.deadlinePassed(now: at(20)) == .close)
    }

    @Test func parseFailureClosesAfterTheErrorResponse() {
        var machine = ConnectionStateMachine(timeouts: timeouts, now: at(0))
        #expect(machine.parseFailed(now: at(0)) == .sendResponse(close: true))
    }

    @Test func drainClosesIdleConnectionsAtOnce() {
        var machine = ConnectionStateMachine(timeouts: timeouts, now: at(0))
        #expect(machine.beginDrain() == .close)
    }

    @Test func drainClosesAPartialHeadAtOnce() {
        var machine = ConnectionStateMachine(timeouts: timeouts, now: at(0))
        _ = machine.needMoreData(partialRequest: true, readingBody: false, now: at(0))
        #expect(machine.beginDrain() == .close)
    }

    @Test func drainLetsARequestInProgressFinishThenCloses() {
        var machine = ConnectionStateMachine(timeouts: timeouts, now: at(0))
        _ = machine.needMoreData(partialRequest: true, readingBody: true, now: at(0))
        #expect(machine.beginDrain() == .none)
        _ = machine.requestReceived()
        #expect(machine.responseReady(keepAlive: true, now: at(1)) == .sendResponse(close: true))
    }

    @Test func drainDuringAWriteClosesAfterIt() {
        var machine = ConnectionStateMachine(timeouts: timeouts, now: at(0))
        _ = machine.requestReceived()
        _ = machine.responseReady(keepAlive: true, now: at(0))
        #expect(machine.beginDrain() == .none)
        #expect(machine.writeCompleted(now: at(1)) == .lingeringClose)
    }

    @Test func peerCloseWhileWritingFinishesTheResponseFirst() {
        var machine = ConnectionStateMachine(timeouts: timeouts, now: at(0))
        _ = machine.requestReceived()
        _ = machine.responseReady(keepAlive: true, now: at(0))
        #expect(machine.peerClosed() == .none)
        #expect(machine.writeCompleted(now: at(0)) == .lingeringClose)
    }

    @Test func peerCloseMidRequestCloses() {
        var machine = ConnectionStateMachine(timeouts: timeouts, now: at(0))
        _ = machine.needMoreData(partialRequest: true, readingBody: false, now: at(0))
        #expect(machine.peerClosed() == .close)
        #expect(machine.connectionFailed() == .none)
    }

    @Test func nothingHappensAfterClose() {
        var machine = ConnectionStateMachine(timeouts: timeouts, now: at(0))
        _ = machine.connectionFailed()
        #expect(machine.requestReceived() == .none)
        #expect(machine.responseReady(keepAlive: true, now: at(1)) == .none)
        #expect(machine.deadlinePassed(now: at(1000)) == .none)
    }

    @Test func sweepIntervalFollowsTheShortestTimeout() {
        #expect(ConnectionTimeouts().sweepInterval == .milliseconds(250))
        #expect(ConnectionTimeouts(headerTimeout: .milliseconds(200)).sweepInterval == .milliseconds(50))
        #expect(ConnectionTimeouts(headerTimeout: .milliseconds(1)).sweepInterval == .milliseconds(10))
    }
}

/// Issue 13: what the server may reclaim at the connection limit, and the timeouts that shorten
/// under pressure. Each case drives a machine to a phase, then asks at an instant.
struct ConnectionPressureTests {
    /// Header 10 s, idle 60 s; under pressure header 3 s, idle 5 s.
    static let timeouts = ConnectionTimeouts(
        headerTimeout: .seconds(10), bodyTimeout: .seconds(30), idleTimeout: .seconds(60),
        writeTimeout: .seconds(20), lingerTimeout: .seconds(2), pressureHeaderTimeout: .seconds(3), pressureIdleTimeout: .seconds(5))

    static func at(_ seconds: Double) -> ServerInstant { ServerInstant(nanoseconds: UInt64(seconds * 1e9)) }

    enum Phase: String, CaseIterable, Sendable {
        /// Accepted at 0, nothing sent.
        case fresh
        /// Accepted at 0, part of a head at 1.
        case partialHead
        /// A response completed at 6: keep-alive since.
        case idle
        /// Idle since 6, the next head began at 7.
        case nextHead
        /// Head complete at 2, body arriving.
        case readingBody
        case processing
        case writing
    }

    static func machine(in phase: Phase) -> ConnectionStateMachine {
        var machine = ConnectionStateMachine(timeouts: timeouts, now: at(0))
        switch phase {
        case .fresh: break
        case .partialHead:
            _ = machine.needMoreData(partialRequest: true, readingBody: false, now: at(1))
        case .idle, .nextHead:
            _ = machine.requestReceived()
            _ = machine.responseReady(keepAlive: true, now: at(5))
            _ = machine.writeCompleted(now: at(6))
            if phase == .nextHead { _ = machine.needMoreData(partialRequest: true, readingBody: false, now: at(7)) }
        case .readingBody:
            _ = machine.needMoreData(partialRequest: true, readingBody: true, now: at(2))
        case .processing:
            _ = machine.requestReceived()
        case .writing:
            _ = machine.requestReceived()
            _ = machine.responseReady(keepAlive: true, now: at(5))
        }
        return machine
    }

    struct DeadlineCase: Sendable, CustomTestStringConvertible {
        var phase: Phase
        /// When the normal and the pressure deadline fall.
        var normal: Double
        var underPressure: Double
        var action: ConnectionStateMachine.Action
        var testDescription: String { phase.rawValue }
    }

    static let deadlineCases: [DeadlineCase] = [
        .init(phase: .fresh, normal: 10, underPressure: 3, action: .close),
        // The header timeout runs from accept for the first request: 0 + 3.
        .init(phase: .partialHead, normal: 10, underPressure: 3, action: .sendTimeoutResponse),
        .init(phase: .idle, normal: 66, underPressure: 11, action: .close),
        .init(phase: .nextHead, normal: 17, underPressure: 10, action: .sendTimeoutResponse),
        // Body and write timeouts do not shrink: a request whose head arrived is being served.
        .init(phase: .readingBody, normal: 32, underPressure: 32, action: .sendTimeoutResponse),
        .init(phase: .writing, normal: 25, underPressure: 25, action: .close),
    ]

    @Test(arguments: deadlineCases)
    func pressureShortensOnlyTheHeaderAndIdleTimeouts(_ c: DeadlineCase) {
        for pressure in [false, true] {
            let due = pressure ? c.underPressure : c.normal
            var machine = Self.machine(in: c.phase)
            #expect(machine.effectiveDeadline(underPressure: pressure) == Self.at(due))
            #expect(machine.deadlinePassed(now: Self.at(due - 0.001), underPressure: pressure) == .none)
            #expect(machine.deadlinePassed(now: Self.at(due), underPressure: pressure) == c.action)
        }
    }

    @Test func pressureNeverLengthensATimeout() {
        var loose = Self.timeouts
        loose.pressureHeaderTimeout = .seconds(30)  // above the normal 10 s: the normal one holds
        var machine = ConnectionStateMachine(timeouts: loose, now: Self.at(0))
        #expect(machine.effectiveDeadline(underPressure: true) == Self.at(10))
        #expect(machine.deadlinePassed(now: Self.at(10), underPressure: true) == .close)
    }

    struct ReclaimCase: Sendable, CustomTestStringConvertible {
        var phase: Phase
        var now: Double
        var reason: ConnectionStateMachine.ReclaimReason?
        var since: Double
        var activity: ConnectionStateMachine.Activity
        var testDescription: String { "\(phase.rawValue) at \(now)" }
    }

    /// Grace 1 s.
    static let reclaimCases: [ReclaimCase] = [
        .init(phase: .fresh, now: 0.999, reason: nil, since: 0, activity: .waitingForHead),
        .init(phase: .fresh, now: 1, reason: .partialHead, since: 0, activity: .waitingForHead),
        // A partial head is as old as its connection (the first head is waited for from accept).
        .init(phase: .partialHead, now: 1, reason: .partialHead, since: 0, activity: .waitingForHead),
        // Idle keep-alive: reclaimable at once, whatever the grace.
        .init(phase: .idle, now: 6, reason: .idle, since: 6, activity: .idle),
        // The next head began at 7: it gets the grace from its first byte.
        .init(phase: .nextHead, now: 7.5, reason: nil, since: 7, activity: .waitingForHead),
        .init(phase: .nextHead, now: 8, reason: .partialHead, since: 7, activity: .waitingForHead),
        // A request whose head is complete is never reclaimed.
        .init(phase: .readingBody, now: 100, reason: nil, since: 2, activity: .active),
        .init(phase: .processing, now: 100, reason: nil, since: 0, activity: .active),
        .init(phase: .writing, now: 100, reason: nil, since: 5, activity: .writing),
    ]

    @Test(arguments: reclaimCases)
    func reclaimableConnectionsHoldNoRequestInFlight(_ c: ReclaimCase) {
        let machine = Self.machine(in: c.phase)
        #expect(machine.reclaimReason(now: Self.at(c.now), grace: .seconds(1)) == c.reason)
        #expect(machine.stateSince == Self.at(c.since))
        #expect(machine.activity == c.activity)
    }
}
