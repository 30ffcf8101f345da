import Foundation

/// The line-based vector format of `proto-spec/vectors/*.vectors`:
///
/// ```
/// == name of the vector
/// # description, any number of lines
/// key: value
/// ```
///
/// Values are single lines; `value:` and `payload:` hold JSON, `hex:` holds bytes as hex
/// pairs separated by spaces.
struct VectorEntry {
    var name: String
    var description: [String] = []
    var fields: [(key: String, value: String)] = []

    subscript(_ key: String) -> String? { fields.first { $0.key == key }?.value }

    func render() -> String {
        var lines = ["== \(name)"]
        lines += description.map { "# \($0)" }
        lines += fields.map { "\($0.key): \($0.value)" }
        return lines.joined(separator: "\n")
    }
}

enum VectorFile {
    static func parse(_ text: String) -> [VectorEntry] {
        var entries: [VectorEntry] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("== ") {
                entries.append(VectorEntry(name: String(line.dropFirst(3))))
            } else if line.hasPrefix("#"), !entries.isEmpty {
                entries[entries.count - 1].description.append(String(line.dropFirst(min(2, line.count))))
            } else if let colon = line.firstIndex(of: ":"), !entries.isEmpty {
                let key = String(line[..<colon])
                let value = line[line.index(after: colon)...].drop { $0 == " " }
                entries[entries.count - 1].fields.append((key, String(value)))
            }
        }
        return entries
    }

    static func read(_ name: String) throws -> [VectorEntry] {
        parse(try text(name))
    }

    static func render(header: [String], _ entries: [VectorEntry]) -> String {
        header.map { "# \($0)" }.joined(separator: "\n") + "\n\n"
            + entries.map { $0.render() }.joined(separator: "\n\n") + "\n"
    }

    static func text(_ name: String) throws -> String {
        try String(contentsOf: VectorFiles.directory.appendingPathComponent(name), encoding: .utf8)
    }

    static func write(_ name: String, _ text: String) throws {
        try text.write(to: VectorFiles.directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
    }
}
