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
