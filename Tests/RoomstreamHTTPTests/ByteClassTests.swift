@testable import RoomstreamHTTP
import Testing

struct ByteClassTests {
    @Test func tokenCharacters() {
        let tchar = Set("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8)
        for byte in UInt8.min...UInt8.max {
            #expect(ByteClass.isToken(byte) == tchar.contains(byte), "byte \(byte)")
        }
    }

    @Test func forbiddenControls() {
        for byte in UInt8.min...UInt8.max {
            let expected = (byte < 0x20 && byte != 0x09) || byte == 0x7F
            #expect(ByteClass.isForbiddenControl(byte) == expected, "byte \(byte)")
        }
    }

    @Test(arguments: [(UInt8(ascii: "0"), 0), (UInt8(ascii: "9"), 9), (UInt8(ascii: "a"), 10), (UInt8(ascii: "F"), 15)] as [(UInt8, Int)])
    func hex(_ byte: UInt8, _ value: Int) {
        #expect(ByteClass.hexValue(byte) == value)
    }

    @Test func nonHex() {
        #expect(ByteClass.hexValue(UInt8(ascii: "g")) == nil)
        #expect(ByteClass.hexValue(UInt8(ascii: " ")) == nil)
    }
}
