import CartTypes

/// What a request key stands for: a digest of everything the client chose in the command
/// (who acts, on what, with which arguments), so that the dedup window answers a retry, and
/// only a retry, from its memory.
///
/// Request keys are picked by clients. Without the fingerprint, a command sent under a key
/// already used, by the same client by mistake or by another user on purpose, got the first
/// command's outcome: another user's cart version, or a success for a command never applied.
/// The fingerprint leaves out what the node fills in: `AddItem.unitPrice` (the price when the
/// leader proposed it, which a retry may see changed) and `RegisterUser.passwordHash`
/// (salted anew by each attempt). FNV-1a 64 over length-prefixed fields: the same on every
/// replica and platform.
extension Command {
    public var requestFingerprint: UInt64 {
        var digest = FingerprintDigest()
        switch self {
        case .createCart(let c):
            digest.tag(1); digest.add(c.cart.rawValue); digest.add(c.owner.rawValue)
        case .addItem(let c):
            digest.tag(2); digest.add(c.cart.rawValue); digest.add(c.actor.rawValue); digest.add(c.item.rawValue)
            digest.add(c.quantity); digest.add(c.expectedVersion)
        case .removeItem(let c):
            digest.tag(3); digest.add(c.cart.rawValue); digest.add(c.actor.rawValue); digest.add(c.item.rawValue)
            digest.add(c.expectedVersion)
        case .setQuantity(let c):
            digest.tag(4); digest.add(c.cart.rawValue); digest.add(c.actor.rawValue); digest.add(c.item.rawValue)
            digest.add(c.quantity); digest.add(c.expectedVersion)
        case .shareCart(let c):
            digest.tag(5); digest.add(c.cart.rawValue); digest.add(c.actor.rawValue)
            digest.add(Int64(c.users.count))
            for user in c.users { digest.add(user.rawValue) }
            digest.add(c.expectedVersion)
        case .unshareCart(let c):
            digest.tag(6); digest.add(c.cart.rawValue); digest.add(c.actor.rawValue); digest.add(c.user.rawValue)
            digest.add(c.expectedVersion)
        case .confirmLinks(let c):
            digest.tag(7); digest.add(Int64(c.links.count))
            for link in c.links {
                digest.add(link.cart.rawValue); digest.add(link.user.rawValue); digest.add(Int64(bitPattern: link.seq.rawValue))
            }
        case .beginCheckout(let c):
            digest.tag(20); digest.add(c.cart.rawValue); digest.add(c.actor.rawValue); digest.add(c.checkout.rawValue)
            digest.add(c.expectedVersion)
        case .completeCheckout(let c):
            digest.tag(21); digest.add(c.cart.rawValue); digest.add(c.checkout.rawValue)
        case .abortCheckout(let c):
            digest.tag(22); digest.add(c.cart.rawValue); digest.add(c.checkout.rawValue); digest.add(c.reason)
        case .settleCheckout(let c):
            digest.tag(23); digest.add(c.cart.rawValue); digest.add(c.checkout.rawValue)
        case .putItem(let c):
            digest.tag(40); digest.add(c.item.rawValue); digest.add(c.name); digest.add(c.price.minorUnits)
            digest.add(c.initialStock)
        case .adjustStock(let c):
            digest.tag(41); digest.add(c.item.rawValue); digest.add(c.delta)
        case .reserveStock(let c):
            digest.tag(42); digest.add(c.checkout.rawValue); digest.add(Int64(c.lines.count))
            for line in c.lines { digest.add(line.item.rawValue); digest.add(line.quantity) }
        case .releaseStock(let c):
            digest.tag(43); digest.add(c.checkout.rawValue)
        case .commitReservation(let c):
            digest.tag(44); digest.add(c.checkout.rawValue)
        case .registerUser(let c):
            digest.tag(60); digest.add(c.user.rawValue)
        case .linkCart(let c):
            digest.tag(61); digest.add(c.user.rawValue); digest.add(c.cart.rawValue); digest.add(Int64(c.role.rawValue))
            // Added only when set, so the fingerprints of links without a seq (kept in
            // snapshots' dedup windows) stay what they were.
            if let cartSeq = c.cartSeq { digest.tag(1); digest.add(Int64(bitPattern: cartSeq.rawValue)) }
        case .unlinkCart(let c):
            digest.tag(62); digest.add(c.user.rawValue); digest.add(c.cart.rawValue)
            if let cartSeq = c.cartSeq { digest.tag(1); digest.add(Int64(bitPattern: cartSeq.rawValue)) }
        }
        return digest.value
    }
}

/// FNV-1a 64 over typed, length-prefixed fields (so "ab"+"c" and "a"+"bc" differ).
private struct FingerprintDigest {
    private var hash = FNV1a64()

    var value: UInt64 { hash.value }

    /// The command's case, first.
    mutating func tag(_ number: UInt8) { add(number) }

    mutating func add(_ byte: UInt8) { hash.add(byte) }

    mutating func add(_ number: Int64) {
        var bits = UInt64(bitPattern: number)
        for _ in 0..<8 {
            add(UInt8(truncatingIfNeeded: bits))
            bits >>= 8
        }
    }

    mutating func add(_ string: String) {
        add(Int64(string.utf8.count))
        for byte in string.utf8 { add(byte) }
    }

    mutating func add(_ version: Version?) {
        guard let version else { return add(UInt8(0)) }
        add(UInt8(1))
        add(Int64(bitPattern: version.rawValue))
    }
}
