import ArgumentParser
import CartClient
import CartDomain
import Foundation

/// Printing for people and for scripts, and the one place failures become exit codes.
enum Printer {
    /// Prints `error: <message>` on stderr and gives the exit code: 1 for an answer of the
    /// cluster (the message says which), 3 when the cluster could not be reached in time.
    static func fail(_ error: any Error) -> ExitCode {
        if let exit = error as? ExitCode { return exit }
        if error is CleanExit || error is ValidationError { return ExitCode.validationFailure }
        let message: String
        var code: Int32 = 1
        switch error {
        case let client as CartClientError:
            message = client.code == .unauthenticated && client.message.contains("needs a logged-in user")
                ? "\(client.description); log in first: cartctl login <user>"
                : client.description
            if client.code == .unavailable || client.code == .deadlineExceeded { code = 3 }
        default:
            message = "\(error)"
        }
        FileHandle.standardError.write(Data("error: \(message)\n".utf8))
        return ExitCode(code)
    }

    static func json<T: Encodable>(_ value: T) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(value) else {
            print("{}")
            return
        }
        print(String(decoding: PositionalUnwrapper.unwrap(Array(data)), as: UTF8.self))
        fflush(nil)
    }

    static func line(_ text: String) {
        print(text)
        fflush(nil)
    }

    /// A remark for the person reading, on stderr (stdout stays events or JSON).
    static func note(_ text: String) {
        FileHandle.standardError.write(Data("note: \(text)\n".utf8))
    }

    static func cart(_ cart: Cart) -> String {
        var lines = ["cart \(cart.id)  \(cart.status)  version \(cart.version.rawValue)  seq \(cart.seq.rawValue)",
                     "owner \(cart.owner)" + (cart.sharedUsers.isEmpty ? "" : ", shared with \(cart.sharedUsers.map(\.rawValue).joined(separator: ", "))")]
        for line in cart.lines {
            let amount = line.unitPrice.times(line.quantity).map(\.description) ?? "overflow"
            lines.append("  \(line.item)  × \(line.quantity)  @ \(line.unitPrice)  = \(amount)")
        }
        lines.append("total \(cart.total().map(\.description) ?? "overflow")")
        return lines.joined(separator: "\n")
    }

    static func item(_ item: Item) -> String {
        "\(item.id)  \"\(item.name)\"  \(item.price)  stock \(item.stock)  reserved \(item.reserved)"
    }

    /// A moment as local ISO 8601 time to the millisecond, with the date unless `dateless`.
    static func time(_ timestamp: Timestamp, dateless: Bool = false) -> String {
        let time = Date(timeIntervalSince1970: Double(timestamp.millisecondsSinceEpoch) / 1_000)
        let options: ISO8601DateFormatter.Options = dateless ? [.withFullTime, .withFractionalSeconds]
            : [.withFullDate, .withFullTime, .withFractionalSeconds]
        return ISO8601DateFormatter.string(from: time, timeZone: .current, formatOptions: options)
    }

    static func event(_ event: CartEvent) -> String {
        "#\(event.seq.rawValue)  v\(event.version.rawValue)  \(time(event.timestamp, dateless: true))  \(event.change.name)  \(details(event.change))"
    }

    static func details(_ change: CartChange) -> String {
        switch change {
        case .created(let created): "owner \(created.owner)"
        case .itemAdded(let added): "\(added.actor) added \(added.quantityAdded) × \(added.line.item) (now \(added.line.quantity))"
        case .itemRemoved(let removed): "\(removed.actor) removed \(removed.item)"
        case .modified(let modified): "\(modified.actor) set \(modified.item) to \(modified.quantity)"
        case .shared(let shared): "shared with \(shared.user)"
        case .unshared(let unshared): "no longer shared with \(unshared.user)"
        case .checkoutStarted(let started): "\(started.actor) started checkout \(started.checkout), total \(started.total)"
        case .checkout(let done): "checked out \(done.checkout), total \(done.total)"
        case .checkoutAborted(let aborted): "checkout \(aborted.checkout) aborted: \(aborted.reason)"
        case .checkoutSettled(let settled): "checkout \(settled.checkout) settled"
        }
    }
}

/// Synthesized `Codable` writes an enum case's unlabelled value under "_0", so an event's change
/// would print as `{"itemAdded":{"_0":{…}}}`. For scripts, every object whose only key is "_0"
/// is replaced by its value: `{"itemAdded":{…}}`. Reads the compact JSON `JSONEncoder` writes
/// (no whitespace between tokens).
enum PositionalUnwrapper {
    static func unwrap(_ json: [UInt8]) -> [UInt8] {
        var index = 0
        var out = value(json, &index)
        out.append(contentsOf: json[min(index, json.count)...])
        return out
    }

    private static let quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\")
    private static let positional = Array(#""_0""#.utf8)

    private static func value(_ json: [UInt8], _ index: inout Int) -> [UInt8] {
        guard index < json.count else { return [] }
        switch json[index] {
        case UInt8(ascii: "{"): return object(json, &index)
        case UInt8(ascii: "["): return array(json, &index)
        case quote: return string(json, &index)
        default:
            let start = index
            while index < json.count, !",}]".utf8.contains(json[index]) { index += 1 }
            return Array(json[start..<index])
        }
    }

    private static func string(_ json: [UInt8], _ index: inout Int) -> [UInt8] {
        let start = index
        index += 1
        while index < json.count, json[index] != quote { index += json[index] == backslash ? 2 : 1 }
        index = min(index + 1, json.count)
        return Array(json[start..<index])
    }

    private static func object(_ json: [UInt8], _ index: inout Int) -> [UInt8] {
        index += 1
        var members: [(key: [UInt8], value: [UInt8])] = []
        while index < json.count, json[index] != UInt8(ascii: "}") {
            if json[index] == UInt8(ascii: ",") { index += 1; continue }
            let key = string(json, &index)
            index += 1  // ':'
            members.append((key, value(json, &index)))
        }
        index = min(index + 1, json.count)
        if members.count == 1, members[0].key == positional { return members[0].value }
        var out: [UInt8] = [UInt8(ascii: "{")]
        for (number, member) in members.enumerated() {
            if number > 0 { out.append(UInt8(ascii: ",")) }
            out += member.key + [UInt8(ascii: ":")] + member.value
        }
        return out + [UInt8(ascii: "}")]
    }

    private static func array(_ json: [UInt8], _ index: inout Int) -> [UInt8] {
        index += 1
        var elements: [[UInt8]] = []
        while index < json.count, json[index] != UInt8(ascii: "]") {
            if json[index] == UInt8(ascii: ",") { index += 1; continue }
            let start = index
            elements.append(value(json, &index))
            if index == start { index += 1 }  // not JSON: step over it rather than loop
        }
        index = min(index + 1, json.count)
        return [UInt8(ascii: "[")] + Array(elements.joined(separator: [UInt8(ascii: ",")])) + [UInt8(ascii: "]")]
    }
}
