package storefront

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/souq-commerce/souq/internal/checkout"
	"github.com/souq-commerce/souq/internal/souq"
	"github.com/souq-commerce/souq/internal/storefront/i18n"
	"github.com/souq-commerce/souq/internal/waitroom"
)

// Cookies of the waiting room.
const (
	// cookieQueue holds the browser's place in a protected sale's queue
	// (a random id, one place per browser).
	cookieQueue = "souq_q"
	// cookieAdmission holds the admission token the queue gave.
	cookieAdmission = "souq_adm"
)

// queueHold is how long a refresh of the queue page is held waiting for
// news (a long poll without JavaScript: the browser shows the page it has
// while the next one is held), and queueFirstHold how long the first
// visit waits, so a shopper who finds no queue goes straight through.
const (
	queueHold      = 20 * time.Second
	queueFirstHold = time.Second
)

type queuePage struct {
	base
	State              string
	Heading            string
	Position, Ahead    int
	WaitMin, WaitMax   int // minutes; 0 when not known yet
	StartsAt, StartISO string
	Grace              int // minutes
}

// queuePage is the waiting room: it gives the browser its place, shows
// the place and the estimated wait, refreshes itself (no JavaScript
// needed), and sends an admitted shopper on to checkout with the
// admission in a cookie.
func (s *Storefront) queuePage(v *visit) error {
	if s.Room == nil {
		return v.redirect(v.url("/checkout"))
	}
	visitor := ""
	if c, err := v.r.Cookie(cookieQueue); err == nil && validToken(c.Value) {
		visitor = c.Value
	} else {
		visitor = souq.NewToken()
	}
	// Set on every visit, so the place outlives the grace period only
	// while the browser keeps coming back.
	v.setCookie(cookieQueue, visitor, 24*time.Hour)
	hold := queueFirstHold
	if v.r.URL.Query().Get("wait") == "1" {
		hold = queueHold
	}
	st, err := s.Room.Visit(v.ctx(), visitor, cartID(v.r), hold)
	if err != nil {
		return err
	}
	switch st.State {
	case waitroom.StateOpen:
		return v.redirect(v.url("/checkout"))
	case waitroom.StateAdmitted:
		v.setCookie(cookieAdmission, st.Token, st.TokenExpires.Sub(s.Catalog.Now()))
		return v.redirect(v.url("/checkout"))
	}
	p := queuePage{base: s.base(v, i18n.T(v.lang, "queue.title")), State: st.State,
		Position: int(st.Position), Ahead: int(st.Ahead), Grace: int(s.Room.Grace().Minutes()),
		WaitMin: int(st.WaitMin.Minutes()), WaitMax: int(st.WaitMax.Minutes())}
	p.Heading = p.Title
	switch st.State {
	case waitroom.StateSoldOut:
		p.Heading = i18n.T(v.lang, "queue.sold_out.title")
		p.Title = p.Heading
	case waitroom.StateEarly:
		zone := v.market.Code.Zone()
		p.StartsAt = i18n.T(v.lang, "format.datetime_zone", i18n.DateTime(v.lang, st.Sale.StartsAt.In(zone)),
			i18n.T(v.lang, "zone."+strings.ToLower(string(v.market.Code))))
		p.StartISO = st.Sale.StartsAt.UTC().Format(time.RFC3339)
		fallthrough
	default:
		// The refresh is answered when there is news or after queueHold:
		// a shopper is told within a tick of being admitted or of the
		// sale selling out.
		p.Refresh, p.RefreshURL = 1, v.url("/queue?wait=1")
	}
	s.render(v, http.StatusOK, "queue", p)
	return nil
}

// placeOrder places a checkout's order through the waiting room: during a
// protected sale the browser's admission must admit the cart. It returns
// queued when the shopper must (re)join the queue instead; then no order
// was attempted.
func (s *Storefront) placeOrder(v *visit, req checkout.OrderRequest, idem *checkout.Idempotency) (res checkout.Result, queued bool, err error) {
	if s.Room == nil {
		res, err = s.Checkout.PlaceOrder(v.ctx(), req, idem)
		return res, false, err
	}
	key := ""
	if idem != nil {
		key = idem.Key
	}
	ran := false
	err = s.Room.Checkout(v.ctx(), admissionCookie(v.r), req.CartID, key, func() (bool, error) {
		var err error
		ran = true
		res, err = s.Checkout.PlaceOrder(v.ctx(), req, idem)
		return checkout.OrderPlaced(res, err), err
	})
	if !ran { // the room refused: checkout never counted the attempt
		s.Checkout.Refused(err)
	}
	if s.requeue(v, err) { // the room refused: PlaceOrder never ran
		return res, true, nil
	}
	if checkout.OrderPlaced(res, err) { // the place is spent: a next order queues again
		v.setCookie(cookieAdmission, "", -1)
		v.setCookie(cookieQueue, "", -1)
	}
	return res, false, err
}

// requeue handles a refused admission: it reports whether err was one,
// and forgets what the browser held that can no longer serve it (a used
// admission's place is spent: the browser queues again from the end).
func (s *Storefront) requeue(v *visit, err error) bool {
	var e *souq.Error
	switch {
	case errors.Is(err, souq.ErrQueued):
	case errors.Is(err, souq.ErrForbidden) && errors.As(err, &e):
		v.setCookie(cookieAdmission, "", -1)
		if e.Extra["reason"] == "used" {
			v.setCookie(cookieQueue, "", -1)
		}
	default:
		return false
	}
	return true
}

// admissionCookie returns the browser's admission token, or "".
func admissionCookie(r *http.Request) string {
	if c, err := r.Cookie(cookieAdmission); err == nil && len(c.Value) <= 512 {
		return c.Value
	}
	return ""
}
