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
}
