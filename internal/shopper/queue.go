package shopper

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Problem types of the waiting room.
const (
	problemWaitingRoom = "urn:souq:problem:waiting-room"
	problemAdmission   = "urn:souq:problem:admission-refused"
)

// maxQueueWait bounds how long a shopper waits in a protected sale's
// queue before giving up.
const maxQueueWait = 30 * time.Minute

// queueJSON is a place in the waiting room (GET /api/v1/queue/{ticket}).
type queueJSON struct {
	Ticket         string `json:"ticket"`
	State          string `json:"state"`
	Position       int64  `json:"position"`
	AdmissionToken string `json:"admission_token"`
}

// queued reports whether err is the shop sending the order to the
// waiting room: no admission token (429), or one refused (403).
func queued(err error) bool {
	var ae *apiError
	return errors.As(err, &ae) && (ae.Type == problemWaitingRoom || ae.Type == problemAdmission)
}

// joinQueue takes a place for the visit's cart, as an app sent to the
// waiting room does: the join is held for news (one request when the
// admission comes within the hold), under an Idempotency-Key that stands
// for the place, so a join that failed on the way is sent again and
// finds it.
func (sess *Session) joinQueue(ctx context.Context, v *visitState) (time.Duration, bool, error) {
	if v.queuedAt.IsZero() {
		v.queuedAt = sess.sim.now()
		v.queueKey = newIdempotencyKey()
		sess.sim.stats.queued.Add(1)
		sess.res.Queued = true
	}
	var q queueJSON
	err := sess.sim.call(ctx, "POST /api/v1/queue", http.MethodPost, "/api/v1/queue?wait="+sess.queueHold(), map[string]any{"cart_id": v.cart.ID},
		http.Header{"Idempotency-Key": {v.queueKey}}, &q)
	if err != nil {
		if retryable(err) && ctx.Err() == nil && sess.sim.now().Sub(v.queuedAt) < maxQueueWait {
			sess.fail(ctx, err)
			return time.Second, false, nil // stepQueueJoin again, same key
		}
		sess.fail(ctx, err)
		return 0, true, err
	}
	v.ticket = q.Ticket
	return sess.inQueue(v, q)
}

// queueHold is how long the shop is asked to hold a join or a poll for
// news, in seconds: 20, or less when the request timeout is shorter.
func (sess *Session) queueHold() string {
	hold := min(20*time.Second, sess.sim.cfg.RequestTimeout-2*time.Second)
	return strconv.Itoa(max(0, int(hold/time.Second)))
}

// pollQueue asks for the visit's place again, held by the shop until its
// news changes (a long poll).
func (sess *Session) pollQueue(ctx context.Context, v *visitState) (time.Duration, bool, error) {
	q := url.Values{"cart_id": {string(v.cart.ID)}, "wait": {sess.queueHold()}}
	var st queueJSON
	err := sess.sim.call(ctx, "GET /api/v1/queue/{ticket}", http.MethodGet, "/api/v1/queue/"+url.PathEscape(v.ticket)+"?"+q.Encode(), nil, nil, &st)
	if err != nil {
		if retryable(err) && ctx.Err() == nil && sess.sim.now().Sub(v.queuedAt) < maxQueueWait {
			sess.fail(ctx, err)
			return time.Second, false, nil
		}
		sess.fail(ctx, err)
		return 0, true, err
	}
	return sess.inQueue(v, st)
}

// inQueue decides what follows a place's status: check out when admitted
// (or when there is no queue after all), stop when the sale sold out or
// the wait grew too long, else ask again.
func (sess *Session) inQueue(v *visitState, q queueJSON) (time.Duration, bool, error) {
	switch q.State {
	case "admitted", "open":
		sess.res.QueueWait = sess.sim.now().Sub(v.queuedAt)
		v.admission = q.AdmissionToken
		v.next = stepOrder
		return 0, false, nil
	case "sold_out":
		sess.res.QueueWait = sess.sim.now().Sub(v.queuedAt)
		sess.res.SoldOutInQueue = true
		sess.sim.stats.soldOutInQueue.Add(1)
		return 0, true, nil
	}
	if sess.sim.now().Sub(v.queuedAt) >= maxQueueWait {
		sess.res.QueueWait = sess.sim.now().Sub(v.queuedAt)
		return 0, true, nil
	}
	v.next = stepQueuePoll
	return 0, false, nil
}
