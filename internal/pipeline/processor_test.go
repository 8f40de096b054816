package pipeline

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/souq-commerce/souq/internal/analytics"
	"github.com/souq-commerce/souq/internal/natsstream"
	"github.com/souq-commerce/souq/internal/souq"
)

// TestProcessorLastSeqIsHighest: a message redelivered after newer ones
// (its ack was lost, or its delivery never arrived) does not take LastSeq
// back. Readiness compares LastSeq with the end of the stream, so a
// LastSeq going back made a caught-up processor look behind, for good
// when the redelivery was the last message it got.
func TestProcessorLastSeqIsHighest(t *testing.T) {
	agg, err := analytics.New(t.Context(), analytics.NewMemStore(), analytics.Config{})
	if err != nil {
		t.Fatal(err)
	}
	p := NewProcessor(nil, agg, nil, nil)
	msg := func(seq uint64) natsstream.Msg {
		now := time.Now().UTC()
		data, err := json.Marshal(souq.Event{MessageID: "evt_" + string(rune('a'+seq)), Type: "track", Event: "Product Viewed",
			Timestamp: now, ReceivedAt: now, AnonymousID: "anon", Properties: json.RawMessage(`{"product_id":"prd_1"}`),
			Context: json.RawMessage(`{"market":"AE"}`)})
		if err != nil {
			t.Fatal(err)
		}
		return natsstream.Msg{Seq: seq, Data: data, Delivered: 1}
	}
	for _, batch := range [][]natsstream.Msg{{msg(4), msg(5)}, {msg(3)}} { // 3 comes back after 5
		if _, err := p.apply(t.Context(), batch); err != nil {
			t.Fatal(err)
		}
	}
	if st := p.Stats(); st.LastSeq != 5 || st.Applied != 3 {
		t.Errorf("stats: got %+v, want LastSeq 5 (the highest) and 3 applied", st)
	}
}
