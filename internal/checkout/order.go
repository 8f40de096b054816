package checkout

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/souq-commerce/souq/internal/souq"
)

// MaxListPageSize caps an admin order listing page.
const MaxListPageSize = 100

// cancellable lists the statuses an order can be cancelled from.
var cancellable = []souq.OrderStatus{souq.StatusPendingPayment, souq.StatusPlaced, souq.StatusPaid}

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

// AdminLookup returns any order by its id or by its number, read as
// souq.ParseOrderNumber reads it ("sq-7k4m2q" finds SQ-7K4M2Q): what a
// shopper on the phone reads out.
func (s *Service) AdminLookup(ctx context.Context, ref string) (souq.Order, error) {
	number, ok := souq.ParseOrderNumber(ref)
	if !ok || strings.HasPrefix(ref, souq.OrderPrefix) {
		return s.AdminOrder(ctx, souq.ID(ref))
	}
	o, err := s.store.OrderByNumber(ctx, number)
	if errors.Is(err, souq.ErrNotFound) {
		return souq.Order{}, souq.Errorf(souq.ErrNotFound, "order %q not found", number)
	}
	return o, err
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

// cancel cancels an order. An unpaid one's payment is cancelled at the
// provider first (if it was taken meanwhile, the order is paid and is
// cancelled as such); the order is then set cancelled, its stock restored
// and, if it was completed, "Order Cancelled" written, in one transaction;
// a card payment taken is then given back (refund; the sweeper retries a
// refund that fails).
func (s *Service) cancel(ctx context.Context, id souq.ID) (souq.Order, error) {
	o, err := s.store.Order(ctx, id)
	if err != nil {
		return souq.Order{}, fmt.Errorf("cancel order %s: %w", id, err)
	}
	if o.Status == souq.StatusPendingPayment && o.Payment.Reference != "" && o.Payment.Provider == s.providerName() {
		cctx, cancel := context.WithTimeout(ctx, providerCall)
		st, err := s.payments.Provider.Cancel(cctx, o.Payment.Reference)
		cancel()
		if err != nil {
			s.log.Error("cancel the payment of an unpaid order", "order", id, "err", err)
			return souq.Order{}, souq.Errorf(souq.ErrUnavailable, "the payment provider could not be reached to cancel the payment; try again shortly")
		}
		if st.Status == souq.PaymentCaptured || st.Status == souq.PaymentAuthorized {
			if _, err := s.settle(ctx, id, st); err != nil {
				return souq.Order{}, fmt.Errorf("cancel order %s: %w", id, err)
			}
		}
	}
	now := s.now().UTC()
	o, err = s.store.UpdateOrder(ctx, id, now, func(o *souq.Order) (OrderUpdate, error) {
		switch {
		case !slices.Contains(cancellable, o.Status):
			return OrderUpdate{}, fmt.Errorf("order %s is %s: %w", id, o.Status, souq.ErrConflict)
		case o.Status == souq.StatusPendingPayment:
			return s.releaseUpdate(o, now, souq.PaymentCanceled, "")
		}
		return s.cancelPaid(o, now)
	})
	if errors.Is(err, souq.ErrConflict) {
		return souq.Order{}, souq.Errorf(souq.ErrConflict, "order %s cannot be cancelled: it is no longer pending, placed or paid", id)
	}
	if err != nil {
		return souq.Order{}, fmt.Errorf("cancel order %s: %w", id, err)
	}
	if o.Payment.Status == souq.PaymentRefundPending {
		if s.payments.Provider == nil || o.Payment.Provider != s.payments.Provider.Name() {
			s.log.Error("cannot give back the payment of a cancelled order: its provider is not configured; refund it by hand",
				"order", id, "provider", o.Payment.Provider, "reference", o.Payment.Reference)
			return o, nil
		}
		if r, err := s.refund(ctx, id); err != nil {
			s.log.Error("refund cancelled order (tried again by the sweeper)", "order", id, "err", err)
		} else {
			o = r
		}
	}
	return o, nil
}

// ExpireKeys removes idempotency keys older than KeyTTL.
func (s *Service) ExpireKeys(ctx context.Context) (int, error) {
	return s.store.DeleteKeysBefore(ctx, s.now().Add(-KeyTTL))
}
