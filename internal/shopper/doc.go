// Package shopper owns Souq's simulated shoppers: a stream of Gulf
// shoppers who browse, search, add to carts and buy through the real HTTP
// API, and report what they do to the collector as Segment events, as a
// storefront's analytics SDK would. `souq serve --demo` runs one so the
// live dashboard has traffic; the load generator plays the same sessions
// at its own rates.
//
// A Simulator starts sessions (Run) as a Poisson process whose rate follows
// a daily curve in Gulf time (Activity, ActivityAt): low at night, rising
// through the afternoon, at its peak from 20:00 to 23:00 local time. A
// Session is one visit: a shopper in one of the six markets, in one of its
// cities, browsing in Arabic or English; see Session.Run for what it does.
//
// The simulator is a client: it holds no business rules. Prices, stock and
// the rules of checkout are the server's; a 409 out-of-stock answer is
// counted as a normal outcome. It never sends "Order Completed": the server
// records orders itself, from the checkout transaction.
//
// # Goroutines
//
// Run owns one goroutine per session in progress (at most MaxConcurrent)
// and returns only after all of them have ended. RunSession and
// Session.Run run on the caller's goroutine. The flash-sale cache is
// guarded by its own mutex; counters are atomic.
package shopper
