import CartDomain
import CartRPC
import CartTypes

/// The answer a proposal waits for: the command's outcome once applied at this index, or a
/// retryable error when the entry can no longer commit here (leadership lost).
typealias ProposalCompletion = (Result<CommandOutcome, RPCError>) -> Void

struct PendingProposal {
    let term: Term
    let completion: ProposalCompletion
}

/// Linearizable reads waiting for their ReadIndex round, then for the apply index to reach it.
typealias ReadCompletion = (Result<Void, RPCError>) -> Void
