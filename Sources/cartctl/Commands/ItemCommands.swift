import ArgumentParser
import CartClient
import CartDomain
import CartTypes

struct ItemGroup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "item", abstract: "The catalogue: items, prices, stock.",
        subcommands: [PutItem.self, GetItem.self, AdjustStock.self])
}

struct PutItem: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "put", abstract: "Create an item or change its name and price (admin).")
    @Argument var item: String
    @Option var name: String
    @Option(help: "Unit price, e.g. 12.50.") var price: String
    @Option(help: "Units in stock when the item is new.") var stock: Int64 = 0
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        guard Money(parsing: price) != nil else { throw ValidationError("--price must look like 12.50") }
        guard stock >= 0 else { throw ValidationError("--stock cannot be negative") }
    }

    func run() async throws {
        let price = Money(parsing: self.price)!
        let item = try await global.withClient { try await $0.putItem(ItemID(self.item), name: name, price: price, initialStock: stock) }
        if global.json { return Printer.json(item) }
        Printer.line(Printer.item(item))
    }
}

struct GetItem: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "get", abstract: "Show an item, its price and stock.")
    @Argument var item: String
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let item = try await global.withClient { try await $0.getItem(ItemID(self.item)) }
        if global.json { return Printer.json(item) }
        Printer.line(Printer.item(item))
    }
}

struct AdjustStock: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stock", abstract: "Add (+n) or remove (-n) units of stock (admin).",
        discussion: "A negative delta goes after --, or as --delta: cartctl item stock sku-42 -- -5, or --delta -5.")
    @Argument var item: String
    @Argument(help: ArgumentHelp("Units to add, negative to remove (after --).", valueName: "delta")) var positionalDelta: Int64?
    @Option(name: .customLong("delta"), parsing: .unconditional, help: "Units to add, negative to remove.") var optionDelta: Int64?
    @OptionGroup var global: GlobalOptions

    var delta: Int64 { optionDelta ?? positionalDelta ?? 0 }

    func validate() throws {
        guard optionDelta != nil || positionalDelta != nil else {
            throw ValidationError("no delta given; a negative one goes after -- or as --delta: cartctl item stock \(item) -- -5, or --delta -5")
        }
        guard optionDelta == nil || positionalDelta == nil else {
            throw ValidationError("give the delta once: as an argument (after -- if negative) or as --delta")
        }
    }

    func run() async throws {
        let item = try await global.withClient { try await $0.adjustStock(ItemID(self.item), delta: delta) }
        if global.json { return Printer.json(item) }
        Printer.line(Printer.item(item))
    }
}
