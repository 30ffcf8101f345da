import CartDomain
import CartRaft
import CartRPC
import CartTypes

/// The answer a proposal waits for: the command's outcome once applied at this index, or a
/// retryable error when the entry can no longer commit here (leadership lost).
typealias ProposalCompletion = (Result<CommandOutcome, RPCError>) -> Void

struct PendingProposal {
    let term: Term
    /// The client's request key, if the command has one: a retry arriving while this is in
    /// flight is let through to the log, which answers it as the first attempt.
    let request: RequestKey?
    let completion: ProposalCompletion
}

/// Linearizable reads waiting for their ReadIndex round, then for the apply index to reach it.
typealias ReadCompletion = (Result<Void, RPCError>) -> Void

/// A Ready whose entries are being made durable; its messages and the committed entries not
/// yet applied wait here until they are.
struct InflightReady {
    let sequence: UInt64
    let ready: Ready
    let committedEntries: [Entry]
    /// Its writes are durable: its hard state saved, its entries synced.
    var durable: Bool
    /// The replica's tick count when the Ready was taken (`sendMessagesNeedingNoWrite`).
    let takenAtTick: UInt64
}
