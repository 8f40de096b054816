// Package souq is the shared vocabulary of the shop: identifiers, markets,
// money, products, sales, carts, orders, the event envelope and the error
// kinds every other package speaks in. It holds no business workflows and
// does no I/O; the area packages (catalog, cart, checkout) own the rules and
// the storage packages (sqlite, …) own persistence.
package souq
