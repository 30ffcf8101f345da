import Foundation

/// Reading and writing the keyring's text file (format in `SecretKeyring`'s doc comment).
extension SecretKeyring {
    public func serialized() -> String {
        var text = "# SharedCart token keys: keep secret, identical on every node\n"
        for id in keyIDs {
            text += "key \(id.rawValue) \(Hex.encode(secret(for: id)!))\n"
        }
        text += "current \(currentKeyID.rawValue)\n"
        return text
    }

    public static func parse(_ text: String) throws(KeyringError) -> SecretKeyring {
        var keys: [KeyID: [UInt8]] = [:]
        var current: KeyID?
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard let keyword = fields.first, !keyword.hasPrefix("#") else { continue }
            let lineNumber = number + 1
            switch (keyword, fields.count) {
            case ("key", 3):
                let id = try keyID(fields[1], line: lineNumber)
                guard let secret = bytes(fromHex: fields[2]) else {
                    throw KeyringError(.malformed, "line \(lineNumber): key \(id) secret is not hex")
                }
                guard keys.updateValue(secret, forKey: id) == nil else {
                    throw KeyringError(.duplicateKey, "line \(lineNumber): key \(id) appears twice")
                }
            case ("current", 2):
                guard current == nil else {
                    throw KeyringError(.malformed, "line \(lineNumber): a second `current` line")
                }
                current = try keyID(fields[1], line: lineNumber)
            default:
                throw KeyringError(.malformed, "line \(lineNumber): expected `key <id> <hex>` or `current <id>`")
            }
        }
        guard let current else {
            throw KeyringError(.noCurrentKey, "no `current <id>` line")
        }
        return try SecretKeyring(keys: keys, current: current)
    }

    public static func load(path: String) throws(KeyringError) -> SecretKeyring {
        let data: Data
        do {
            let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0
            guard size <= fileBytesMax else {
                throw KeyringError(.malformed, "\(path) is \(size) bytes, more than the \(fileBytesMax) a keyring may be")
            }
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch let error as KeyringError {
            throw error
        } catch {
            throw KeyringError(.unreadable, "cannot read \(path): \(error.localizedDescription)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw KeyringError(.malformed, "\(path) is not UTF-8 text")
        }
        return try parse(text)
    }

    /// Writes the keyring readable by its owner only, through a temporary file and a rename
    /// so that a node reloading it never sees half a file.
    public func write(to path: String) throws(KeyringError) {
        let temporary = path + ".tmp"
        let created = FileManager.default.createFile(
            atPath: temporary, contents: Data(serialized().utf8), attributes: [.posixPermissions: 0o600])
        guard created, rename(temporary, path) == 0 else {
            try? FileManager.default.removeItem(atPath: temporary)
            throw KeyringError(.unwritable, "cannot write \(path)")
        }
    }

    /// Creates a new secret file with one random key; refuses to overwrite an existing file
    /// (that would log every user out of the cluster).
    @discardableResult
    public static func createFile(at path: String) throws(KeyringError) -> SecretKeyring {
        guard !FileManager.default.fileExists(atPath: path) else {
            throw KeyringError(.fileExists, "\(path) exists already; rotate it instead of replacing it")
        }
        let keyring = try generate()
        try keyring.write(to: path)
        return keyring
    }

    private static func keyID(_ field: Substring, line: Int) throws(KeyringError) -> KeyID {
        guard let value = UInt32(field) else {
            throw KeyringError(.malformed, "line \(line): key id `\(field)` is not a number in 0...\(UInt32.max)")
        }
        return KeyID(value)
    }

    private static func bytes(fromHex field: Substring) -> [UInt8]? {
        let digits = Array(field.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes = [UInt8]()
        for index in stride(from: 0, to: digits.count, by: 2) {
            guard let high = nibble(digits[index]), let low = nibble(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        return bytes
    }

    private static func nibble(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
