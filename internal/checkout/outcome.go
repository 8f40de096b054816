package checkout

import (
	"errors"

	"github.com/souq-commerce/souq/internal/outcomes"
	"github.com/souq-commerce/souq/internal/souq"
)

// SetOutcomes makes the Service count how it answers each order attempt
// in r (see outcomeOf). Without it nothing is counted. Call it before the
// Service is used.
func (s *Service) SetOutcomes(r *outcomes.Recorder) { s.outcomes = r }

// Refused counts an order attempt answered with err before it reached
// PlaceOrder: the waiting room's refusal (ErrQueued, ErrForbidden), or
// its failure. Callers that place orders through the waiting room call it
// when the room did not let the attempt through; err nil counts nothing.
func (s *Service) Refused(err error) {
	if err != nil {
		s.count(Result{}, err)
	}
}

// count counts PlaceOrder's answer, when outcomes are counted.
func (s *Service) count(res Result, err error) {
	if s.outcomes == nil {
		return
	}
	if k, ok := outcomeOf(res, err); ok {
		s.outcomes.Record(k)
	}
}

// clientKinds are the error kinds a client is answered with a 4xx for,
// other than out of stock and a declined payment, which are counted
// apart.
var clientKinds = []error{souq.ErrInvalid, souq.ErrNotFound, souq.ErrConflict, souq.ErrUnauthorized,
	souq.ErrKeyReused, souq.ErrQueued, souq.ErrForbidden}

// outcomeOf classifies PlaceOrder's answer. A replay of an
// Idempotency-Key, or the same key while its request is still in flight,
// is the same attempt again: ok is false. A card order the payment
// provider could not be reached for is held, but its checkout did not
// finish: it counts as an error, so an outage of the provider shows on
// the error rate.
func outcomeOf(res Result, err error) (k outcomes.Kind, ok bool) {
	switch {
	case res.Replay != nil || errors.Is(err, souq.ErrKeyInFlight):
		return 0, false
	case err == nil:
		return outcomes.KindOrder, true
	case errors.Is(err, souq.ErrOutOfStock):
		return outcomes.KindOutOfStock, true
	case errors.Is(err, souq.ErrPayment):
		return outcomes.KindDeclined, true
	}
	for _, kind := range clientKinds {
		if errors.Is(err, kind) {
			return outcomes.KindRejected, true
		}
	}
	return outcomes.KindError, true
}
