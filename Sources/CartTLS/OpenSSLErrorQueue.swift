import COpenSSLShim

/// OpenSSL reports failures on a per-thread queue. Every operation clears it first and
/// drains it after a failure, so one connection's errors never leak into another's on
/// the same event loop thread.
enum OpenSSLErrorQueue {
    /// One formatted entry, longer reasons are truncated.
    static let reasonBytesMax = 256
    /// Entries kept per failure; the queue is cleared past this.
    static let reasonsMax = 8

    struct Entry {
        let code: UInt
        let text: String
    }

    static func clear() {
        ERR_clear_error()
    }

    static func drain() -> [Entry] {
        var entries: [Entry] = []
        var text = [CChar](repeating: 0, count: reasonBytesMax)
        while true {
            let code = text.withUnsafeMutableBufferPointer { cs_err_pop($0.baseAddress, $0.count) }
            if code == 0 {
                break
            }
            if entries.count < reasonsMax {
                let decoded = text.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
                entries.append(Entry(code: code, text: decoded))
            }
        }
        return entries
    }
}
