package checkout

import (
	"context"
	"errors"
	"fmt"

	"github.com/souq-commerce/souq/internal/souq"
)

// MaxListPageSize caps an admin order listing page.
const MaxListPageSize = 100

// cancellable lists the statuses an order can be cancelled from.
var cancellable = []souq.OrderStatus{souq.StatusPlaced, souq.StatusPaid}

// Order returns an order to whoever holds its access token. A wrong token
// and a missing order give the same not-found error, so ids cannot be probed.
func (s *Service) Order(ctx context.Context, id souq.ID, token string) (souq.Order, error) {
	o, err := s.store.Order(ctx, id)
	if errors.Is(err, souq.ErrNotFound) || (err == nil && !souq.TokenMatches(token, o.AccessTokenHash)) {
		return souq.Order{}, souq.Errorf(souq.ErrNotFound, "order not found (or the access token does not match)")
	}
	if err != nil {
		return souq.Order{}, fmt.Errorf("get order: %w", err)
	}
	return o, nil
}

// AdminOrder returns any order.
func (s *Service) AdminOrder(ctx context.Context, id souq.ID) (souq.Order, error) {
	o, err := s.store.Order(ctx, id)
	if errors.Is(err, souq.ErrNotFound) {
		return souq.Order{}, souq.Errorf(souq.ErrNotFound, "order %q not found", id)
	}
	return o, err
}

// Orders lists orders newest first, for admins.
func (s *Service) Orders(ctx context.Context, page, pageSize int) ([]souq.Order, int, error) {
	if page < 1 || pageSize < 1 || pageSize > MaxListPageSize {
		return nil, 0, souq.Errorf(souq.ErrInvalid, "page must be at least 1 and page_size 1 to %d", MaxListPageSize)
	}
	return s.store.ListOrders(ctx, (page-1)*pageSize, pageSize)
}

// Cancel cancels an order for the holder of its access token.
func (s *Service) Cancel(ctx context.Context, id souq.ID, token string) (souq.Order, error) {
	if _, err := s.Order(ctx, id, token); err != nil {
		return souq.Order{}, err
	}
	return s.cancel(ctx, id)
}

// AdminCancel cancels any order.
func (s *Service) AdminCancel(ctx context.Context, id souq.ID) (souq.Order, error) {
	if _, err := s.AdminOrder(ctx, id); err != nil {
		return souq.Order{}, err
	}
	return s.cancel(ctx, id)
}

// cancel sets the order cancelled, restores its stock and records the
// "Order Cancelled" event in one transaction, then voids a card payment.
func (s *Service) cancel(ctx context.Context, id souq.ID) (souq.Order, error) {
	now := s.now().UTC()
	o, err := s.store.CancelOrder(ctx, id, cancellable, now, func(o souq.Order) (souq.OutboxEvent, error) {
		return souq.NewOrderEvent(souq.EventOrderCancelled, o, now)
	})
	if errors.Is(err, souq.ErrConflict) {
		return souq.Order{}, souq.Errorf(souq.ErrConflict, "order %s cannot be cancelled: it is no longer placed or paid", id)
	}
	if err != nil {
		return souq.Order{}, fmt.Errorf("cancel order %s: %w", id, err)
	}
	if o.Payment.Reference != "" {
		if s.payments == nil {
			s.log.Error("cannot void the payment of a cancelled order: no payment provider is configured",
				"order", id, "provider", o.Payment.Provider, "reference", o.Payment.Reference)
			return o, nil
		}
		if err := s.payments.Void(ctx, o.Payment.Reference); err != nil {
			s.log.Error("void payment of cancelled order", "order", id, "err", err)
		}
	}
	return o, nil
}

// ExpireKeys removes idempotency keys older than KeyTTL.
func (s *Service) ExpireKeys(ctx context.Context) (int, error) {
	return s.store.DeleteKeysBefore(ctx, s.now().Add(-KeyTTL))
}
