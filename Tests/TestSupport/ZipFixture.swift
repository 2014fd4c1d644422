import Foundation

/// A small zip writer for tests (pure Swift, independent of the reader under test): stored members, or
/// deflated members whose raw deflate bytes the caller supplies; optional data descriptors, zip64 extra fields
/// and a zip64 end of central directory; and deliberate lies (wrong CRC-32, wrong declared size, flags,
/// method) for the error paths.
public enum ZipFixture {
    /// One member to write.
    public struct Entry {
        public var name: String
        /// The uncompressed bytes (used for the CRC-32 and the declared size).
        public var data: [UInt8]
        /// 0 stored, 8 deflated (then `compressed` holds the raw deflate bytes), or any other value as is.
        public var method: UInt16
        /// The bytes stored in the archive; nil means `data` (stored).
        public var compressed: [UInt8]?
        /// Sizes and CRC-32 in a data descriptor after the data (flag bit 3), zeros in the local header.
        public var dataDescriptor = false
        /// Sizes and offset as 0xFFFFFFFF with the real values in zip64 extra fields.
        public var zip64 = false
        /// A CRC-32 to declare instead of the real one.
        public var declaredCRC: UInt32?
        /// An uncompressed size to declare instead of the real one.
        public var declaredSize: UInt64?
        /// Extra general-purpose flags (bit 0: encrypted).
        public var flags: UInt16 = 0

        public init(name: String, data: [UInt8], method: UInt16 = 0, compressed: [UInt8]? = nil) {
            self.name = name; self.data = data; self.method = method; self.compressed = compressed
        }

        /// A directory entry (`name` ends with `/`).
        public static func directory(_ name: String) -> Entry { Entry(name: name, data: []) }
    }

    /// The archive bytes. `zip64End` writes a zip64 end of central directory record and locator before the
    /// classic end record (whose fields then hold all ones).
    public static func archive(_ entries: [Entry], zip64End: Bool = false, comment: String = "") -> [UInt8] {
        var out: [UInt8] = []
        var central: [UInt8] = []
        for entry in entries {
            let offset = UInt64(out.count)
            let stored = entry.compressed ?? entry.data
            let crc = entry.declaredCRC ?? crc32(entry.data)
            let size = entry.declaredSize ?? UInt64(entry.data.count)
            let flags = entry.flags | (entry.dataDescriptor ? 0x0008 : 0) | 0x0800
            let name = Array(entry.name.utf8)
            // Local header.
            var localExtra: [UInt8] = []
            if entry.zip64 {
                localExtra += le16(1) + le16(16) + le64(entry.dataDescriptor ? 0 : size)
                    + le64(entry.dataDescriptor ? 0 : UInt64(stored.count))
            }
            out += le32(0x0403_4B50) + le16(entry.zip64 ? 45 : 20) + le16(flags) + le16(entry.method) + le16(0) + le16(0x21)
            if entry.dataDescriptor {
                out += le32(0) + le32(entry.zip64 ? 0xFFFF_FFFF : 0) + le32(entry.zip64 ? 0xFFFF_FFFF : 0)
            } else if entry.zip64 {
                out += le32(crc) + le32(0xFFFF_FFFF) + le32(0xFFFF_FFFF)
            } else {
                out += le32(crc) + le32(UInt32(stored.count)) + le32(UInt32(size))
            }
            out += le16(UInt16(name.count)) + le16(UInt16(localExtra.count)) + name + localExtra
            out += stored
            if entry.dataDescriptor {
                out += le32(0x0807_4B50) + le32(crc)
                out += entry.zip64 ? le64(UInt64(stored.count)) + le64(size) : le32(UInt32(stored.count)) + le32(UInt32(size))
            }
            // Central directory entry.
            var extra: [UInt8] = []
            if entry.zip64 { extra = le16(1) + le16(24) + le64(size) + le64(UInt64(stored.count)) + le64(offset) }
            central += le32(0x0201_4B50) + le16(0x031E) + le16(entry.zip64 ? 45 : 20) + le16(flags) + le16(entry.method)
            central += le16(0) + le16(0x21) + le32(crc)
            if entry.zip64 {
                central += le32(0xFFFF_FFFF) + le32(0xFFFF_FFFF)
            } else {
                central += le32(UInt32(stored.count)) + le32(UInt32(size))
            }
            central += le16(UInt16(name.count)) + le16(UInt16(extra.count)) + le16(0) + le16(0) + le16(0) + le32(0)
            central += le32(entry.zip64 ? 0xFFFF_FFFF : UInt32(offset)) + name + extra
        }
        let directoryOffset = UInt64(out.count)
        out += central
        let count = UInt64(entries.count)
        if zip64End {
            let recordOffset = UInt64(out.count)
            out += le32(0x0606_4B50) + le64(44) + le16(45) + le16(45) + le32(0) + le32(0)
            out += le64(count) + le64(count) + le64(UInt64(central.count)) + le64(directoryOffset)
            out += le32(0x0706_4B50) + le32(0) + le64(recordOffset) + le32(1)
            out += le32(0x0605_4B50) + le16(0) + le16(0) + le16(0xFFFF) + le16(0xFFFF)
            out += le32(0xFFFF_FFFF) + le32(0xFFFF_FFFF)
        } else {
            out += le32(0x0605_4B50) + le16(0) + le16(0) + le16(UInt16(count)) + le16(UInt16(count))
            out += le32(UInt32(central.count)) + le32(UInt32(directoryOffset))
        }
        let commentBytes = Array(comment.utf8)
        out += le16(UInt16(commentBytes.count)) + commentBytes
        return out
    }

    /// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), bit by bit.
    public static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    static func le16(_ value: UInt16) -> [UInt8] { [UInt8(value & 0xFF), UInt8(value >> 8)] }
    static func le32(_ value: UInt32) -> [UInt8] { le16(UInt16(value & 0xFFFF)) + le16(UInt16(value >> 16)) }
    static func le64(_ value: UInt64) -> [UInt8] { le32(UInt32(value & 0xFFFF_FFFF)) + le32(UInt32(value >> 32)) }
}
