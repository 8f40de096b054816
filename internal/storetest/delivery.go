package storetest

import (
	"testing"
	"time"

	"github.com/souq-commerce/souq/internal/delivery"
	"github.com/souq-commerce/souq/internal/souq"
)

func testDeliverySettings(t *testing.T, s Store) {
	ctx := t.Context()
	got, err := s.DeliverySettings(ctx)
	must(t, "DeliverySettings (none)", err)
	checkDiff(t, "settings of an empty store", got, []delivery.Settings{})

	sa := delivery.Settings{Market: souq.SA, Fee: 2500, FreeOver: 30000, CODFee: 1500, CODLimit: 500000, Cutoff: "14:00",
		Estimate: delivery.Days{MinDays: 2, MaxDays: 3}, Cities: map[string]delivery.Days{"Riyadh": {MinDays: 1, MaxDays: 1}},
		UpdatedAt: at(0)}
	ae := delivery.Settings{Market: souq.AE, Fee: 1500, FreeOver: 20000, CODFee: 1000, Cutoff: "14:00",
		Estimate: delivery.Days{MinDays: 1, MaxDays: 2}, UpdatedAt: at(time.Second)}
	must(t, "PutDeliverySettings SA", s.PutDeliverySettings(ctx, sa))
	must(t, "PutDeliverySettings AE", s.PutDeliverySettings(ctx, ae))
	got, err = s.DeliverySettings(ctx)
	must(t, "DeliverySettings", err)
	checkDiff(t, "settings by market code", got, []delivery.Settings{ae, sa})

	// A second put replaces the market's settings.
	sa2 := sa
	sa2.Fee, sa2.Cities, sa2.UpdatedAt = 3000, nil, at(time.Minute)
	must(t, "PutDeliverySettings SA again", s.PutDeliverySettings(ctx, sa2))
	got, err = s.DeliverySettings(ctx)
	must(t, "DeliverySettings after the update", err)
	checkDiff(t, "settings after the update", got, []delivery.Settings{ae, sa2})
}
