import CartRPC
import CartTypes

// Calls without a task per call, for callers that run many at once (a load generator).

extension CartClient {
    /// Completion of a call started with `start`: runs once, with the reply or the error.
    public typealias Completion<Response> = @Sendable (Result<Response, CartClientError>) -> Void

    /// `call`, without a task per call: same routing, retries and deadline, outcome to
    /// `completion`. When the target node has a ready connection, the first attempt goes out
    /// at once and an answer runs `completion` on that connection's event loop (no task,
    /// continuation or thread hop per call); otherwise, and after a failed first attempt, the
    /// call goes on in a task exactly as `call` does. `completion` never runs before this returns.
    func start<Request, Response>(_ method: RPCMethod<Request, Response>, _ request: Request, route: Route,
                                  completion: @escaping Completion<Response>) {
        var attempts = CallAttempts(deadline: deadline(timeoutMs: nil))
        guard let next = try? nextAttempt(method.name, route: route, &attempts),
              let client = try? pool.client(for: next.endpoint) else {
            return continueInTask(method, request, route: route, attempts, completion)
        }
        let (endpoint, attemptMs) = next
        let firstAttempt = attempts
        let sent = client.startCallIfReady(method, request, timeout: .milliseconds(attemptMs)) { result in
            switch result {
            case .success(let reply):
                self.learn(from: reply, route: route, endpoint: endpoint)
                completion(.success(reply))
            case .failure(let error):
                self.continueInTask(method, request, route: route, firstAttempt, after: (error, endpoint), completion)
            }
        }
        if !sent {
            // No ready connection yet: the task connects, starting with the same endpoint.
            attempts.redirect = endpoint
            continueInTask(method, request, route: route, attempts, completion)
        }
    }

    /// `start` for a request about `cart`: routed to the cart's partition (its leader, or as
    /// `consistency` says for a read) once the cluster's status has been asked for (the first
    /// request asks, in a task).
    func start<Request, Response>(_ method: RPCMethod<Request, Response>, _ request: Request, cart: CartID,
                                  _ consistency: ReadConsistency = .linearizable, completion: @escaping Completion<Response>) {
        guard !configuration.followLeaders || !statusLearned.isDue else {
            Task {
                let route = consistency.route(to: await self.partition(of: cart))
                self.start(method, request, route: route, completion: completion)
            }
            return
        }
        start(method, request, route: consistency.route(to: routing.partitionMap?.partition(of: cart)), completion: completion)
    }

    /// Goes on as `call` does, in a task: first, after `failure` (the first attempt's error
    /// and where it went), learns from it and waits as `call` would before retrying.
    private func continueInTask<Request, Response>(_ method: RPCMethod<Request, Response>, _ request: Request,
                                                   route: Route, _ attempts: CallAttempts,
                                                   after failure: (error: RPCError, endpoint: Endpoint)? = nil,
                                                   _ completion: @escaping Completion<Response>) {
        Task {
            var attempts = attempts
            do throws(CartClientError) {
                if let failure {
                    let delay = try self.afterFailure(failure.error, route: route, endpoint: failure.endpoint, &attempts)
                    try await self.waitBeforeRetry(delay, method.name, &attempts)
                }
                completion(.success(try await self.call(method, request, route: route, attempts: &attempts)))
            } catch {
                completion(.failure(error))
            }
        }
    }
}
