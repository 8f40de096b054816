package storetest

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/souq-commerce/souq/internal/souq"
	"github.com/souq-commerce/souq/internal/webhook"
)

func newEndpoint(t *testing.T, s Store, id string, events ...string) webhook.Endpoint {
	t.Helper()
	e := webhook.Endpoint{ID: souq.ID(id), URL: "https://erp.example.ae/hooks/" + id, Events: events,
		Description: "ERP " + id, Secret: "whsec_" + id + "_0123456789abcdef", CreatedAt: at(0)}
	if err := s.CreateWebhookEndpoint(t.Context(), e); err != nil {
		t.Fatalf("CreateWebhookEndpoint(%s): %v", id, err)
	}
	return e
}

func newDelivery(endpoint souq.ID, event string, created time.Duration) webhook.Delivery {
	return webhook.Delivery{ID: souq.NewID(webhook.DeliveryPrefix), EndpointID: endpoint, EventID: event, EventType: webhook.TypeOrderCreated,
		Payload: json.RawMessage(`{"id":"` + event + `"}`), CreatedAt: at(created), Status: webhook.StatusPending, NextAttemptAt: at(created)}
}

func testWebhookEndpoints(t *testing.T, s Store) {
	ctx := t.Context()
	a := newEndpoint(t, s, "whk_a", webhook.TypeOrderCreated, webhook.TypeStockLow)
	b := newEndpoint(t, s, "whk_b", webhook.TypeOrderCancelled)
	got, err := s.WebhookEndpoints(ctx)
	if err != nil {
		t.Fatal(err)
	}
	checkDiff(t, "endpoints", got, []webhook.Endpoint{a, b})
	one, err := s.WebhookEndpoint(ctx, "whk_b")
	if err != nil {
		t.Fatal(err)
	}
	checkDiff(t, "endpoint whk_b", one, b)
	_, err = s.WebhookEndpoint(ctx, "whk_none")
	checkKind(t, "WebhookEndpoint(unknown)", err, souq.ErrNotFound)
	if _, err := s.EnqueueWebhookDeliveries(ctx, []webhook.Delivery{newDelivery("whk_a", "evt_1", 0)}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteWebhookEndpoint(ctx, "whk_a"); err != nil {
		t.Fatalf("DeleteWebhookEndpoint: %v", err)
	}
	checkKind(t, "DeleteWebhookEndpoint again", s.DeleteWebhookEndpoint(ctx, "whk_a"), souq.ErrNotFound)
	if n, _, err := s.PendingWebhookDeliveries(ctx); err != nil || n != 0 {
		t.Errorf("pending after deleting the endpoint: got %d, %v; want 0 (its deliveries go with it)", n, err)
	}
	// A delivery for a deleted endpoint is skipped, not an error.
	if n, err := s.EnqueueWebhookDeliveries(ctx, []webhook.Delivery{newDelivery("whk_a", "evt_2", 0)}); err != nil || n != 0 {
		t.Errorf("enqueue for a deleted endpoint: got %d, %v; want 0, nil", n, err)
	}
}

func testWebhookEnqueue(t *testing.T, s Store) {
	ctx := t.Context()
	newEndpoint(t, s, "whk_a", webhook.TypeOrderCreated)
	newEndpoint(t, s, "whk_b", webhook.TypeOrderCreated)
	ds := []webhook.Delivery{newDelivery("whk_a", "evt_1", 0), newDelivery("whk_b", "evt_1", 0)}
	if n, err := s.EnqueueWebhookDeliveries(ctx, ds); err != nil || n != 2 {
		t.Fatalf("first enqueue: got %d, %v; want 2, nil", n, err)
	}
	// The same events again (a redelivered stream message), with new ids.
	again := []webhook.Delivery{newDelivery("whk_a", "evt_1", 0), newDelivery("whk_b", "evt_1", 0), newDelivery("whk_a", "evt_2", time.Second)}
	if n, err := s.EnqueueWebhookDeliveries(ctx, again); err != nil || n != 1 {
		t.Fatalf("second enqueue: got %d, %v; want 1 (only evt_2 is new), nil", n, err)
	}
	n, oldest, err := s.PendingWebhookDeliveries(ctx)
	if err != nil || n != 3 || !oldest.Equal(at(0)) {
		t.Errorf("pending: got %d, %v, %v; want 3, %v, nil", n, oldest, err, at(0))
	}
}

func testWebhookClaim(t *testing.T, s Store) {
	ctx := t.Context()
	e := newEndpoint(t, s, "whk_a", webhook.TypeOrderCreated)
	d1, d2 := newDelivery("whk_a", "evt_1", 0), newDelivery("whk_a", "evt_2", time.Minute)
	if _, err := s.EnqueueWebhookDeliveries(ctx, []webhook.Delivery{d1, d2}); err != nil {
		t.Fatal(err)
	}
	// At t0+30s only d1 is due; the claim holds it until t0+90s.
	claims, err := s.ClaimWebhookDeliveries(ctx, at(30*time.Second), at(90*time.Second), 10)
	if err != nil {
		t.Fatal(err)
	}
	want := d1
	want.NextAttemptAt = at(90 * time.Second)
	checkDiff(t, "claims", claims, []webhook.Claim{{Delivery: want, URL: e.URL, Secret: e.Secret}})
	// Held: a second claim before the lease ends gets only d2.
	claims, err = s.ClaimWebhookDeliveries(ctx, at(80*time.Second), at(10*time.Minute), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(claims) != 1 || claims[0].ID != d2.ID {
		t.Fatalf("claim at t0+80s: got %v, want only %s", claimIDs(claims), d2.ID)
	}
	// A failed attempt on d1, recorded under its claim.
	rec := want
	rec.Attempts, rec.LastStatus, rec.LastError, rec.NextAttemptAt = 1, 503, "the endpoint answered 503", at(5*time.Minute)
	if ok, err := s.RecordWebhookAttempt(ctx, rec, 0); err != nil || !ok {
		t.Fatalf("RecordWebhookAttempt: got %v, %v; want true, nil", ok, err)
	}
	// The same claim cannot record twice (another worker took it over).
	if ok, err := s.RecordWebhookAttempt(ctx, rec, 0); err != nil || ok {
		t.Fatalf("RecordWebhookAttempt with a stale claim: got %v, %v; want false, nil", ok, err)
	}
	// Due again at t0+5m: claimed, then delivered.
	claims, err = s.ClaimWebhookDeliveries(ctx, at(5*time.Minute), at(6*time.Minute), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(claims) != 1 || claims[0].ID != d1.ID || claims[0].Attempts != 1 || claims[0].LastStatus != 503 {
		t.Fatalf("claim at t0+5m: got %+v, want %s after one attempt that got 503", claims, d1.ID)
	}
	done := claims[0].Delivery
	done.Attempts, done.Status, done.LastStatus, done.LastError, done.DeliveredAt = 2, webhook.StatusDelivered, 204, "", at(5*time.Minute+time.Second)
	if ok, err := s.RecordWebhookAttempt(ctx, done, 1); err != nil || !ok {
		t.Fatalf("record delivered: got %v, %v; want true, nil", ok, err)
	}
	if claims, err := s.ClaimWebhookDeliveries(ctx, at(time.Hour), at(2*time.Hour), 10); err != nil || len(claims) != 1 || claims[0].ID != d2.ID {
		t.Errorf("claim at t0+1h: got %v, %v; want only %s (d1 is delivered)", claimIDs(claims), err, d2.ID)
	}
	log, total, err := s.WebhookDeliveries(ctx, "whk_a", 1, 10)
	if err != nil || total != 2 || len(log) != 2 {
		t.Fatalf("log: got %d of %d, %v; want 2 of 2", len(log), total, err)
	}
	checkDiff(t, "delivered d1 in the log", log[1], done)
}

// testWebhookClaimConcurrent checks that claims made at the same moment
// (workers on several replicas) never share a delivery.
func testWebhookClaimConcurrent(t *testing.T, s Store) {
	ctx := t.Context()
	newEndpoint(t, s, "whk_a", webhook.TypeOrderCreated)
	var ds []webhook.Delivery
	for i := range 40 {
		ds = append(ds, newDelivery("whk_a", fmt.Sprintf("evt_%02d", i), 0))
	}
	if _, err := s.EnqueueWebhookDeliveries(ctx, ds); err != nil {
		t.Fatal(err)
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		seen = map[souq.ID]int{}
	)
	for range 4 {
		wg.Go(func() {
			for {
				claims, err := s.ClaimWebhookDeliveries(ctx, at(time.Second), at(time.Hour), 3)
				if err != nil {
					t.Error(err)
					return
				}
				if len(claims) == 0 {
					return
				}
				mu.Lock()
				for _, c := range claims {
					seen[c.ID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != len(ds) {
		t.Errorf("claimed %d distinct deliveries, want %d", len(seen), len(ds))
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("delivery %s claimed %d times, want once", id, n)
		}
	}
}

func testWebhookStockLow(t *testing.T, s Store) {
	ctx := t.Context()
	newEndpoint(t, s, "whk_a", webhook.TypeStockLow)
	first := newDelivery("whk_a", "evt_low1", 0)
	if ok, err := s.EnqueueStockLow(ctx, "prd_1", at(0), []webhook.Delivery{first}); err != nil || !ok {
		t.Fatalf("first crossing: got %v, %v; want true, nil", ok, err)
	}
	if ok, err := s.EnqueueStockLow(ctx, "prd_1", at(time.Minute), []webhook.Delivery{newDelivery("whk_a", "evt_low2", time.Minute)}); err != nil || ok {
		t.Fatalf("still low: got %v, %v; want false, nil", ok, err)
	}
	if n, _, _ := s.PendingWebhookDeliveries(ctx); n != 1 {
		t.Errorf("pending after two low readings: got %d, want 1", n)
	}
	if err := s.RearmStockLow(ctx, []souq.ID{"prd_1", "prd_unmarked"}); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.EnqueueStockLow(ctx, "prd_1", at(time.Hour), []webhook.Delivery{newDelivery("whk_a", "evt_low3", time.Hour)}); err != nil || !ok {
		t.Fatalf("crossing after a rearm: got %v, %v; want true, nil", ok, err)
	}
	if n, _, _ := s.PendingWebhookDeliveries(ctx); n != 2 {
		t.Errorf("pending after the second crossing: got %d, want 2", n)
	}
}

func testWebhookLog(t *testing.T, s Store) {
	ctx := t.Context()
	newEndpoint(t, s, "whk_a", webhook.TypeOrderCreated)
	newEndpoint(t, s, "whk_b", webhook.TypeOrderCreated)
	var ids []souq.ID
	for i := range 5 {
		d := newDelivery("whk_a", fmt.Sprintf("evt_%d", i), time.Duration(i)*time.Minute)
		ids = append(ids, d.ID)
		if _, err := s.EnqueueWebhookDeliveries(ctx, []webhook.Delivery{d, newDelivery("whk_b", d.EventID, 0)}); err != nil {
			t.Fatal(err)
		}
	}
	var got []souq.ID
	for page := 1; page <= 3; page++ {
		ds, total, err := s.WebhookDeliveries(ctx, "whk_a", page, 2)
		if err != nil || total != 5 {
			t.Fatalf("page %d: total %d, %v; want 5", page, total, err)
		}
		for _, d := range ds {
			got = append(got, d.ID)
		}
	}
	want := []souq.ID{ids[4], ids[3], ids[2], ids[1], ids[0]} // newest first
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("log pages (-want +got):\n%s", d)
	}
}

func claimIDs(cs []webhook.Claim) []souq.ID {
	var ids []souq.ID
	for _, c := range cs {
		ids = append(ids, c.ID)
	}
	return ids
}
