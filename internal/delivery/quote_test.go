package delivery

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/souq-commerce/souq/internal/souq"
)

// saudi is the demo's Saudi settings: SAR 25, free from SAR 300, COD SAR 15
// up to SAR 5,000, cut-off 14:00, Riyadh and Jeddah next day, 2–3 days
// elsewhere.
var saudi = Settings{Market: souq.SA, Fee: 2500, FreeOver: 30000, CODFee: 1500, CODLimit: 500000, Cutoff: "14:00",
	Estimate: Days{MinDays: 2, MaxDays: 3}, Cities: map[string]Days{"Riyadh": {1, 1}, "Jeddah": {1, 1}}}

// riyadh returns the instant of a Riyadh (UTC+3) wall-clock time on
// Sunday 6 December 2026.
func riyadh(hour, minute int) time.Time {
	return time.Date(2026, 12, 6, hour, minute, 0, 0, time.FixedZone("Riyadh", 3*3600))
}

func TestQuote(t *testing.T) {
	tests := []struct {
		name     string
		subtotal int64
		method   souq.PaymentMethod
		city     string
		now      time.Time
		want     Quotation
	}{
		{"Riyadh before the cut-off arrives tomorrow", 10000, souq.PayCard, "Riyadh", riyadh(13, 59),
			Quotation{Fee: 2500, Days: Days{1, 1}, DispatchDate: "2026-12-06", Earliest: "2026-12-07", Latest: "2026-12-07", DaysFromToday: Days{1, 1}}},
		{"Riyadh at the cut-off leaves tomorrow", 10000, souq.PayCard, "riyadh", riyadh(14, 0),
			Quotation{Fee: 2500, Days: Days{1, 1}, DispatchDate: "2026-12-07", Earliest: "2026-12-08", Latest: "2026-12-08", DaysFromToday: Days{2, 2}}},
		{"Tabuk takes the default 2-3 days", 10000, souq.PayCard, "Tabuk", riyadh(9, 0),
			Quotation{Fee: 2500, Days: Days{2, 3}, DispatchDate: "2026-12-06", Earliest: "2026-12-08", Latest: "2026-12-09", DaysFromToday: Days{2, 3}}},
		{"the threshold makes delivery free", 30000, souq.PayCard, "Riyadh", riyadh(9, 0),
			Quotation{Fee: 0, Free: true, Days: Days{1, 1}, DispatchDate: "2026-12-06", Earliest: "2026-12-07", Latest: "2026-12-07", DaysFromToday: Days{1, 1}}},
		{"just under the threshold pays", 29999, souq.PayCard, "Riyadh", riyadh(9, 0),
			Quotation{Fee: 2500, Days: Days{1, 1}, DispatchDate: "2026-12-06", Earliest: "2026-12-07", Latest: "2026-12-07", DaysFromToday: Days{1, 1}}},
		{"cash on delivery adds its fee", 10000, souq.PayCashOnDelivery, "Riyadh", riyadh(9, 0),
			Quotation{Fee: 2500, CODFee: 1500, Days: Days{1, 1}, DispatchDate: "2026-12-06", Earliest: "2026-12-07", Latest: "2026-12-07", DaysFromToday: Days{1, 1}}},
		{"cash on delivery at the limit", 500000 - 1500, souq.PayCashOnDelivery, "Riyadh", riyadh(9, 0),
			Quotation{Fee: 0, Free: true, CODFee: 1500, Days: Days{1, 1}, DispatchDate: "2026-12-06", Earliest: "2026-12-07", Latest: "2026-12-07", DaysFromToday: Days{1, 1}}},
		// 23:30 UTC on 5 December is 02:30 on the 6th in Riyadh: the
		// market's day, not UTC's, counts.
		{"the market's date, not UTC's", 10000, souq.PayCard, "Jeddah", time.Date(2026, 12, 5, 23, 30, 0, 0, time.UTC),
			Quotation{Fee: 2500, Days: Days{1, 1}, DispatchDate: "2026-12-06", Earliest: "2026-12-07", Latest: "2026-12-07", DaysFromToday: Days{1, 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Quote(saudi, tt.subtotal, tt.method, tt.city, tt.now)
			if err != nil {
				t.Fatalf("Quote: %v", err)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("Quote (-want +got):\n%s", d)
			}
		})
	}
}

func TestQuoteCODLimit(t *testing.T) {
	_, err := Quote(saudi, 500000-1500+1, souq.PayCashOnDelivery, "Riyadh", riyadh(9, 0))
	var se *souq.Error
	if !errors.As(err, &se) || !errors.Is(err, souq.ErrInvalid) {
		t.Fatalf("Quote over the COD limit: got %v, want an ErrInvalid *souq.Error", err)
	}
	if len(se.Fields) != 1 || se.Fields[0].Field != "payment.method" {
		t.Errorf("fields: got %+v, want one naming payment.method", se.Fields)
	}
	if _, err := Quote(saudi, 900000, souq.PayCard, "Riyadh", riyadh(9, 0)); err != nil {
		t.Errorf("card over the COD limit: got %v, want nil", err)
	}
}

func TestQuoteUAEZone(t *testing.T) {
	ae := Settings{Market: souq.AE, Fee: 1500, Cutoff: "14:00", Estimate: Days{1, 1}}
	// 13:30 in Riyadh is 14:30 in Dubai: past the UAE's cut-off.
	got, err := Quote(ae, 100, souq.PayCard, "Dubai", riyadh(13, 30))
	if err != nil {
		t.Fatal(err)
	}
	if got.DispatchDate != "2026-12-07" {
		t.Errorf("dispatch: got %s, want 2026-12-07 (past 14:00 in UTC+4)", got.DispatchDate)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		s      Settings
		fields []string
	}{
		{"valid", saudi, nil},
		{"lower-case market", Settings{Market: "ae", Cutoff: "09:05"}, nil},
		{"unknown market", Settings{Market: "EG", Cutoff: "14:00"}, []string{"market"}},
		{"negative amounts", Settings{Market: souq.SA, Fee: -1, FreeOver: -1, CODFee: -1, CODLimit: -1, Cutoff: "14:00"},
			[]string{"fee", "free_over", "cod_fee", "cod_limit"}},
		{"bad cut-off", Settings{Market: souq.SA, Cutoff: "2pm"}, []string{"cutoff"}},
		{"cut-off out of range", Settings{Market: souq.SA, Cutoff: "24:00"}, []string{"cutoff"}},
		{"short cut-off", Settings{Market: souq.SA, Cutoff: "9:00"}, []string{"cutoff"}},
		{"min over max", Settings{Market: souq.SA, Cutoff: "14:00", Estimate: Days{3, 2}}, []string{"estimate"}},
		{"unknown city", Settings{Market: souq.SA, Cutoff: "14:00", Cities: map[string]Days{"Dubai": {1, 1}}}, []string{`cities["Dubai"]`}},
		{"bad city estimate", Settings{Market: souq.SA, Cutoff: "14:00", Cities: map[string]Days{"Tabuk": {-1, 2}}}, []string{`cities["Tabuk"]`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.s.Validate()
			var got []string
			var se *souq.Error
			if errors.As(err, &se) {
				for _, f := range se.Fields {
					got = append(got, f.Field)
				}
			} else if err != nil {
				t.Fatalf("Validate: got %v, want a *souq.Error", err)
			}
			if d := cmp.Diff(tt.fields, got); d != "" {
				t.Errorf("problem fields (-want +got):\n%s", d)
			}
		})
	}
}
