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
        guard let data = try? encoder.encode(value), let text = String(data: data, encoding: .utf8) else {
            print("{}")
            return
        }
        print(text)
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
