#if canImport(Glibc)
import Glibc
#endif
import RoomstreamBasics
import Testing

struct BasicsTests {
    @Test(arguments: [
        ("plain", "\"plain\""), ("a\"b", "\"a\\\"b\""), ("back\\slash", "\"back\\\\slash\""),
        ("line\nbreak\r\t", "\"line\\nbreak\\r\\t\""), ("\u{1}", "\"\\u0001\""), ("✓ é", "\"✓ é\""),
    ])
    func jsonQuoting(_ input: String, _ expected: String) {
        #expect(JSONString.quote(input) == expected)
    }

    @Test(arguments: [(0, 1970, 1, 1), (11_016, 2000, 2, 29), (19_239, 2022, 9, 4), (-1, 1969, 12, 31), (47_541, 2100, 3, 1)])
    func civilDates(_ days: Int, _ year: Int, _ month: Int, _ day: Int) {
        #expect(CivilDate.from(daysSinceEpoch: days) == (year, month, day))
        #expect(CivilDate.daysSinceEpoch(year: year, month: month, day: day) == days)
    }

    @Test(arguments: [(0, 0, 0), (86_399, 0, 86_399), (86_400, 1, 0), (-1, -1, 86_399)])
    func split(_ seconds: Int, _ days: Int, _ second: Int) {
        #expect(CivilDate.split(epochSeconds: seconds) == (days, second))
    }

    @Test func closeDescriptorClosesOnce() {
        var ends: [Int32] = [-1, -1]
        #expect(pipe(&ends) == 0)
        #expect(closeDescriptor(ends[0]) == 0)
        #expect(closeDescriptor(ends[1]) == 0)
        #expect(fcntl(ends[0], F_GETFD) == -1 && errno == EBADF)
    }

    #if DEBUG
    /// A second close of a number stops a debug build (the tests, the sanitizer runs), where a
    /// release build would go on: that is the guard against double closes coming back.
    @Test func aDoubleCloseStopsADebugBuild() async {
        await #expect(processExitsWith: .failure) {
            var ends: [Int32] = [-1, -1]
            _ = pipe(&ends)
            closeDescriptor(ends[0])
            closeDescriptor(ends[1])
            closeDescriptor(ends[0])
        }
    }
    #endif
}

