import ArgumentParser

/// `cartctl`: every SharedCart operation from the command line, for people (default) and
/// scripts (`--json`). Argument parsing and printing only; the work is CartClient's.
@main
struct CartCtl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cartctl",
        abstract: "Talk to a SharedCart cluster.",
        discussion: """
            Endpoints default to .cluster/endpoints (written by tools/cluster up), TLS files to certs/.
            Commands act as the user logged in with `cartctl login` (token in $SHAREDCART_HOME/token,
            else ~/.config/sharedcart/token), or as --token / --as-user.
            """,
        subcommands: [UserGroup.self, Login.self, CartGroup.self, ItemGroup.self, ClusterGroup.self, TokenGroup.self]
    )
}
