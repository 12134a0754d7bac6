import CDigest

/// SHA-256, MD5 and HMAC-SHA256 through OpenSSL's libcrypto (`CDigest`). Checked against
/// published vectors (FIPS 180-2, RFC 1321, RFC 4231) and, through SigV4, botocore's.
public enum Digest {
    public static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        // SAFETY: OpenSSL reads `bytes.count` bytes and writes 32 into `out`, during the call only.
        _ = bytes.withUnsafeBytes { input in out.withUnsafeMutableBufferPointer { rs_sha256(input.baseAddress, input.count, $0.baseAddress) } }
        return out
    }

    public static func md5(_ bytes: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 16)
        // SAFETY: as above, 16 bytes written.
        _ = bytes.withUnsafeBytes { input in out.withUnsafeMutableBufferPointer { rs_md5(input.baseAddress, input.count, $0.baseAddress) } }
        return out
    }

    public static func hmacSHA256(key: [UInt8], _ bytes: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        // SAFETY: OpenSSL reads both inputs and writes 32 bytes, during the call only.
        _ = key.withUnsafeBytes { keyBytes in
            bytes.withUnsafeBytes { input in
                out.withUnsafeMutableBufferPointer { rs_hmac_sha256(keyBytes.baseAddress, keyBytes.count, input.baseAddress, input.count, $0.baseAddress) }
            }
        }
        return out
    }
}

/// SHA-256 over data that arrives in pieces (a sealed file as it is written).
public final class SHA256Hasher {
    private var context: OpaquePointer?

    public init() { context = rs_sha256_begin() }

    public func update(_ bytes: [UInt8]) {
        guard let context else { return }
        // SAFETY: OpenSSL reads the bytes during the call only.
        _ = bytes.withUnsafeBytes { rs_sha256_update(context, $0.baseAddress, $0.count) }
    }

    /// The digest; the hasher cannot be used afterwards.
    public func finalize() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        guard let context else { return out }
        self.context = nil
        // SAFETY: 32 bytes written into `out`; the context is freed by the call.
        _ = out.withUnsafeMutableBufferPointer { rs_sha256_finish(context, $0.baseAddress) }
        return out
    }

    deinit { rs_sha256_free(context) }
}
