package httpapi

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/souq-commerce/souq/internal/httpjson"
	"github.com/souq-commerce/souq/internal/souq"
	"github.com/souq-commerce/souq/internal/waitroom"
)

// AdmissionHeader carries a waiting room admission token on POST
// /api/v1/orders during a protected sale.
const AdmissionHeader = "Souq-Admission"

type queueJoinRequest struct {
	CartID souq.ID `json:"cart_id"`
}

type waitJSON struct {
	MinSeconds int64 `json:"min_seconds"`
	MaxSeconds int64 `json:"max_seconds"`
}

type queueStatusJSON struct {
	Ticket   string     `json:"ticket"`
	State    string     `json:"state"`
	SaleID   souq.ID    `json:"sale_id,omitempty"`
	StartsAt *time.Time `json:"starts_at,omitempty"`
	Position int64      `json:"position,omitempty"`
	Ahead    int64      `json:"ahead,omitempty"`
	// EstimatedWait is null until the queue has moved.
	EstimatedWait     *waitJSON  `json:"estimated_wait,omitempty"`
	AdmissionToken    string     `json:"admission_token,omitempty"`
	AdmissionExpires  *time.Time `json:"admission_expires_at,omitempty"`
	Rejoined          bool       `json:"rejoined,omitempty"`
	Poll              string     `json:"poll,omitempty"`
	RetryAfterSeconds int        `json:"retry_after_seconds,omitempty"`
}

func queueView(ticket string, st waitroom.Status) queueStatusJSON {
	v := queueStatusJSON{Ticket: ticket, State: st.State, SaleID: st.Sale.ID, Position: st.Position, Ahead: st.Ahead, Rejoined: st.Rejoined}
	if st.State == waitroom.StateOpen {
		v.SaleID = ""
	}
	if st.State == waitroom.StateEarly {
		v.StartsAt = &st.Sale.StartsAt
	}
	if st.WaitMax > 0 {
		v.EstimatedWait = &waitJSON{MinSeconds: int64(st.WaitMin.Seconds()), MaxSeconds: int64(st.WaitMax.Seconds())}
	}
	if st.Token != "" {
		v.AdmissionToken, v.AdmissionExpires = st.Token, &st.TokenExpires
	}
	if st.State == waitroom.StateWaiting || st.State == waitroom.StateEarly {
		v.Poll = "/api/v1/queue/" + ticket + "?wait=20"
		v.RetryAfterSeconds = 1
	}
	return v
}

// newTicket returns a new ticket: 130 random bits, unguessable, since a
// ticket holds a place (and its admission).
func newTicket() string { return "q_" + rand.Text() }

// validTicket reports whether t can be a ticket this API gave out.
func validTicket(t string) bool {
	if !strings.HasPrefix(t, "q_") || len(t) != 28 {
		return false
	}
	return strings.Trim(t[2:], "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") == ""
}

func (s *server) room() (*waitroom.Room, error) {
	if s.Room == nil {
		return nil, souq.Errorf(souq.ErrNotFound, "this shop has no waiting room")
	}
	return s.Room, nil
}

// minQueueKeyLength is the shortest Idempotency-Key a queue join takes:
// the key stands for the place (anyone who sends it takes it), so it must
// not be guessable; a UUID (36 characters) or 22 base64 characters of
// randomness (128 bits) pass, "1" or an order number does not.
const minQueueKeyLength = 22

// handleQueueJoin takes a place in the current protected sale's queue and
// answers the ticket that holds it, with the place's status. With
// ?wait=N a place still waiting is held for news, as a status poll is:
// an app learns of its admission without a second request. With an
// Idempotency-Key the ticket is the key's (Room.Ticket), so a join whose
// answer was lost is sent again and finds the same place.
func (s *server) handleQueueJoin() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		room, err := s.room()
		if err != nil {
			return err
		}
		wait, err := queueWait(r)
		if err != nil {
			return err
		}
		key, sent, err := idempotencyKey(r)
		if err != nil {
			return err
		}
		if sent && len(key) < minQueueKeyLength {
			return souq.Errorf(errBadRequest, "a queue join's Idempotency-Key must be at least %d characters, random (a UUID): "+
				"whoever sends the same key takes the same place", minQueueKeyLength)
		}
		ticket := newTicket()
		if sent {
			ticket = "q_" + room.Ticket(key)
		}
		var req queueJoinRequest
		if r.ContentLength != 0 {
			if req, err = decode[queueJoinRequest](w, r, maxBody); err != nil {
				return err
			}
		}
		st, err := room.Visit(r.Context(), ticket, req.CartID, wait)
		if err != nil {
			return err
		}
		if sent {
			// The key's place is the same on every join: once an order
			// used its admission, the key has nothing left to give.
			used, err := room.Used(r.Context(), ticket, st)
			if err != nil {
				return err
			}
			if used {
				return souq.Errorf(souq.ErrConflict, "the admission this Idempotency-Key's place was given is used by an order "+
					"(retry that order with its own Idempotency-Key for its answer); to queue again, join with a new Idempotency-Key")
			}
		}
		w.Header().Set("Location", "/api/v1/queue/"+ticket)
		httpjson.Encode(w, http.StatusCreated, queueView(ticket, st))
		return nil
	})
}

// handleQueueStatus answers a ticket's status; with ?wait=N (seconds, at
// most 25) a ticket still waiting is held until its news changes.
func (s *server) handleQueueStatus() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		room, err := s.room()
		if err != nil {
			return err
		}
		ticket := r.PathValue("ticket")
		if !validTicket(ticket) {
			return souq.Errorf(souq.ErrNotFound, "no such ticket; join the queue with POST /api/v1/queue")
		}
		wait, err := queueWait(r)
		if err != nil {
			return err
		}
		st, err := room.Visit(r.Context(), ticket, souq.ID(r.URL.Query().Get("cart_id")), wait)
		if err != nil {
			return err
		}
		v := queueView(ticket, st)
		if v.RetryAfterSeconds > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(v.RetryAfterSeconds))
		}
		w.Header().Set("Cache-Control", "no-store")
		httpjson.Encode(w, http.StatusOK, v)
		return nil
	})
}

type queueSummaryJSON struct {
	SaleID            souq.ID `json:"sale_id"`
	Started           bool    `json:"started"`
	Waiting           int64   `json:"waiting"`
	Admitted          int64   `json:"admitted"`
	ExitRate          float64 `json:"exit_rate"`
	SoldOut           bool    `json:"sold_out"`
	UnitsLeft         *int    `json:"units_left"`
	Early             int64   `json:"early_arrivals"`
	SeedCommitment    string  `json:"seed_sha256"`
	Seed              *string `json:"seed"`
	DrawNumbersSource string  `json:"draw_numbers,omitempty"`
}

// handleQueueSummary describes the current protected sale's queue, and
// the draw's seed commitment (before the start) and seed (after it).
func (s *server) handleQueueSummary() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		room, err := s.room()
		if err != nil {
			return err
		}
		sum, ok, err := room.Summary(r.Context())
		if err != nil {
			return err
		}
		if !ok {
			return souq.Errorf(souq.ErrNotFound, "no protected sale is running or scheduled")
		}
		v := queueSummaryJSON{SaleID: sum.Sale.ID, Started: sum.Started, Waiting: sum.Waiting, Admitted: sum.Admitted,
			ExitRate: sum.ExitRate, SoldOut: sum.SoldOut, Early: sum.Early, SeedCommitment: hex.EncodeToString(sum.Commitment)}
		if sum.Remaining >= 0 {
			v.UnitsLeft = &sum.Remaining
		}
		if sum.Seed != nil {
			seed := hex.EncodeToString(sum.Seed)
			v.Seed, v.DrawNumbersSource = &seed, "/api/v1/queue/draw"
		}
		w.Header().Set("Cache-Control", "no-store")
		httpjson.Encode(w, http.StatusOK, v)
		return nil
	})
}

// handleQueueDraw lists the draw numbers of the early arrivals, lowest
// first, one per line: with the seed, anyone can check that a place
// follows its number.
func (s *server) handleQueueDraw() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		room, err := s.room()
		if err != nil {
			return err
		}
		numbers, err := room.DrawNumbers(r.Context())
		if err != nil {
			return err
		}
		var b strings.Builder
		for _, n := range numbers {
			b.WriteString(strconv.FormatUint(n, 10))
			b.WriteByte('\n')
		}
		httpjson.Write(w, http.StatusOK, "text/plain; charset=utf-8", []byte(b.String()))
		return nil
	})
}

// queueWait reads ?wait=N: how long a place still waiting is held for
// news (whole seconds, at most waitroom.MaxWait; 0 when absent).
func queueWait(r *http.Request) (time.Duration, error) {
	q := r.URL.Query().Get("wait")
	if q == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(q)
	if err != nil || n < 0 || n > int(waitroom.MaxWait/time.Second) {
		return 0, souq.Errorf(errBadRequest, "wait must be a whole number of seconds from 0 to %d", int(waitroom.MaxWait/time.Second))
	}
	return time.Duration(n) * time.Second, nil
}
