// Package checkout owns placing, reading and cancelling orders: pricing by
// the server, VAT, stock that is never oversold, idempotent order creation,
// card payments confirmed by the provider (pay.go) with refunds and the
// release of unpaid stock, and the outbox events of an order's life.
package checkout

import (
	"context"
	"fmt"
	"time"

	"github.com/souq-commerce/souq/internal/souq"
)

// Store is the persistence orders need.
type Store interface {
	// CreateOrder commits, in one transaction: for every line a conditional
	// stock decrement (stock >= quantity), the order and its lines, the
	// outbox event (none when event.ID is empty), the removal of the cart's items when o.CartID is set,
	// and the completion of the idempotency key when done is not nil. When a
	// line cannot be filled nothing is written and the error is a
	// *souq.OutOfStockError naming the first such product; an unknown
	// product is also an OutOfStockError with Available 0. When another
	// order has o.Number nothing is written and the error is
	// ErrNumberTaken.
	CreateOrder(ctx context.Context, o souq.Order, event souq.OutboxEvent, done *KeyResult) error
	// Order returns an order with its lines; ErrNotFound if there is none.
	Order(ctx context.Context, id souq.ID) (souq.Order, error)
	// OrderByNumber returns the order numbered number (souq.Order.Number)
	// with its lines; ErrNotFound if there is none.
	OrderByNumber(ctx context.Context, number string) (souq.Order, error)
	// ListOrders returns orders newest first and how many there are.
	ListOrders(ctx context.Context, offset, limit int) ([]souq.Order, int, error)
	// UpdateOrder locks the order, calls change with it and, unless change
	// fails or says the order is unchanged (UpdateOrder then writes nothing
	// and returns the order as read), commits in the same transaction the order's status, payment
	// and timestamps as change left them (updated_at set to at), its lines'
	// stock restored when the update says so, and the update's events.
	// change's error is returned and nothing is written; ErrNotFound if
	// there is no such order. Two updates of one order at once run one
	// after the other, the second seeing the first's result. Stores may
	// batch updates and call change again when a batch fails: change must
	// only compute the update, with no other effect.
	UpdateOrder(ctx context.Context, id souq.ID, at time.Time,
		change func(*souq.Order) (OrderUpdate, error)) (souq.Order, error)
	// DuePayments returns up to limit orders whose Payment.DueAt is at or
	// before t, soonest first.
	DuePayments(ctx context.Context, t time.Time, limit int) ([]souq.ID, error)
	// PaymentEventSeen reports whether RecordPaymentEvent recorded the
	// provider's webhook event id.
	PaymentEventSeen(ctx context.Context, provider, id string) (bool, error)
	// RecordPaymentEvent records a webhook event as handled; recording it
	// again changes nothing.
	RecordPaymentEvent(ctx context.Context, provider, id string, at time.Time) error
	// DeletePaymentEventsBefore forgets events recorded before t and
	// returns how many.
	DeletePaymentEventsBefore(ctx context.Context, t time.Time) (int, error)

	// ClaimKey claims an idempotency key for a request whose body hashes to
	// hash, the claim being identified by now. It marks the key in flight
	// (where every process placing orders on the store sees it) and returns
	// a zero KeyState, or returns the key's existing state: in flight (the
	// claim is refused) or done (with the stored response). A key that has been in flight since
	// before staleBefore is taken over as if it were new; its earlier holder
	// crashed before its order committed, since the order and the key's
	// completion commit together. owner identifies the process making the
	// claim (ReleaseClaims).
	ClaimKey(ctx context.Context, key, hash, owner string, now, staleBefore time.Time) (KeyState, error)
	// ReleaseClaims deletes every key still in flight under a claim made
	// by another owner than owner, and returns how many: their requests
	// ended with their process, so no order committed under them.
	ReleaseClaims(ctx context.Context, owner string) (int, error)
	// ReleaseKey deletes a key still in flight under the claim made at
	// claimedAt, so the client may retry with it; a key done, claimed anew
	// or unknown is left as it is.
	ReleaseKey(ctx context.Context, key string, claimedAt time.Time) error
	// DeleteKeysBefore removes keys created before t and returns how many.
	DeleteKeysBefore(ctx context.Context, t time.Time) (int, error)
}

// OrderUpdate is what UpdateOrder writes besides the order's own fields.
type OrderUpdate struct {
	Restock bool               // give the order's units back to stock
	Events  []souq.OutboxEvent // written to the outbox
	// Unchanged says the order needs no change: nothing is written (what
	// change did to the order is dropped), and UpdateOrder returns the
	// order as it read it.
	Unchanged bool
}

// ErrKeyNotHeld is CreateOrder's error when the idempotency key it is to
// complete is no longer held by the claim that placed the order (released,
// or taken over): nothing of the order is written. It is an ErrConflict.
var ErrKeyNotHeld = fmt.Errorf("idempotency key no longer held by this request: %w", souq.ErrConflict)

// ErrNumberTaken is CreateOrder's error when another order already has the
// new order's number: nothing of the order is written, and checkout draws
// another number.
var ErrNumberTaken = fmt.Errorf("order number already taken: %w", souq.ErrConflict)

// KeyState is the state of an idempotency key that already existed.
type KeyState struct {
	Exists   bool
	Hash     string
	InFlight bool
	Result   KeyResult
}

// KeyResult is the stored response replayed for a completed key.
// ClaimedAt identifies the claim (the now given to ClaimKey): CreateOrder
// completes the key only while it is in flight under that claim, so a
// request whose key was taken over as stale cannot complete the new claim,
// and its order does not commit (ErrConflict).
type KeyResult struct {
	Key       string
	ClaimedAt time.Time
	Status    int
	Body      []byte
}
