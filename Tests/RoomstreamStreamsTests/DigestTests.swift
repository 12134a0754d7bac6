import RoomstreamBasics
import RoomstreamStreams
import Testing

/// The digests against their published test vectors.
struct DigestTests {
    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),  // FIPS 180-2 B.1
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),  // B.2
    ])
    func sha256(_ input: String, _ expected: String) {
        #expect(TextFormat.hex(Digest.sha256(Self.bytes(input))) == expected)
        // Incremental, in uneven pieces, gives the same digest.
        let hasher = SHA256Hasher()
        var rest = Self.bytes(input)[...]
        var size = 1
        while !rest.isEmpty {
            hasher.update(Array(rest.prefix(size)))
            rest = rest.dropFirst(size)
            size += 2
        }
        #expect(TextFormat.hex(hasher.finalize()) == expected)
    }

    @Test(arguments: [("", "d41d8cd98f00b204e9800998ecf8427e"), ("abc", "900150983cd24fb0d6963f7d28e17f72")])  // RFC 1321 A.5
    func md5(_ input: String, _ expected: String) {
        #expect(TextFormat.hex(Digest.md5(Self.bytes(input))) == expected)
    }

    @Test func hmacSHA256RFC4231() {
        // Test case 2: key "Jefe".
        #expect(TextFormat.hex(Digest.hmacSHA256(key: Self.bytes("Jefe"), Self.bytes("what do ya want for nothing?")))
                == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        // Test case 6: a key longer than the block size.
        #expect(TextFormat.hex(Digest.hmacSHA256(key: [UInt8](repeating: 0xAA, count: 131), Self.bytes("Test Using Larger Than Block-Size Key - Hash Key First")))
                == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
    }
}
