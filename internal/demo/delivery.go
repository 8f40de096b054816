package demo

import (
	"context"
	"fmt"

	"github.com/souq-commerce/souq/internal/delivery"
	"github.com/souq-commerce/souq/internal/souq"
)

// next and later are the demo's delivery estimates: the next day in the
// big cities, two to three days elsewhere.
var (
	next  = delivery.Days{MinDays: 1, MaxDays: 1}
	later = delivery.Days{MinDays: 2, MaxDays: 3}
)

// DeliverySettings are the demo shop's delivery terms in the six markets,
// in minor units: AED 15 delivery, free from AED 200, AED 10 for cash on
// delivery; SAR 25, free from SAR 300, SAR 15 for cash on delivery up to
// SAR 5,000; the local equivalents elsewhere. Orders placed before 14:00
// leave the same day.
func DeliverySettings() []delivery.Settings {
	return []delivery.Settings{
		{Market: souq.AE, Fee: 1500, FreeOver: 20000, CODFee: 1000, Cutoff: "14:00", Estimate: later,
			Cities: map[string]delivery.Days{"Dubai": next, "Abu Dhabi": {MinDays: 1, MaxDays: 2}, "Sharjah": {MinDays: 1, MaxDays: 2}}},
		{Market: souq.SA, Fee: 2500, FreeOver: 30000, CODFee: 1500, CODLimit: 500000, Cutoff: "14:00", Estimate: later,
			Cities: map[string]delivery.Days{"Riyadh": next, "Jeddah": next}},
		{Market: souq.QA, Fee: 1500, FreeOver: 20000, CODFee: 1000, Cutoff: "14:00", Estimate: later,
			Cities: map[string]delivery.Days{"Doha": next}},
		{Market: souq.KW, Fee: 1500, FreeOver: 20000, CODFee: 500, Cutoff: "14:00", Estimate: later,
			Cities: map[string]delivery.Days{"Kuwait City": next}},
		{Market: souq.BH, Fee: 1500, FreeOver: 20000, CODFee: 500, Cutoff: "14:00", Estimate: later,
			Cities: map[string]delivery.Days{"Manama": next}},
		{Market: souq.OM, Fee: 1500, FreeOver: 20000, CODFee: 500, Cutoff: "14:00", Estimate: later,
			Cities: map[string]delivery.Days{"Muscat": next}},
	}
}

// SeedDelivery stores DeliverySettings for the markets that have none,
// leaving settings changed through the admin API as they are.
func SeedDelivery(ctx context.Context, svc *delivery.Service) error {
	have, err := svc.List(ctx)
	if err != nil {
		return fmt.Errorf("seed delivery: %w", err)
	}
	set := map[souq.MarketCode]bool{}
	for _, st := range have {
		set[st.Market] = true
	}
	for _, st := range DeliverySettings() {
		if set[st.Market] {
			continue
		}
		if _, err := svc.Put(ctx, st); err != nil {
			return fmt.Errorf("seed delivery of %s: %w", st.Market, err)
		}
	}
	return nil
}
