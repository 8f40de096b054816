package shopper

import (
	"math/rand/v2"
	"net/mail"
	"slices"
	"testing"
	"time"

	"github.com/souq-commerce/souq/internal/souq"
)

// TestCustomerDetails checks, for every market, that the details a buyer
// gives pass the shop's rules: a phone of the market (prefix and digit
// count), a parseable email at a reserved domain, an address in one of the
// market's cities.
func TestCustomerDetails(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	for _, m := range souq.Markets() {
		t.Run(string(m.Code), func(t *testing.T) {
			phone := phoneOf(m)
			cities := map[string]bool{}
			for range 2000 {
				if p := phoneNumber(rng, m); !phone.MatchString(p) {
					t.Fatalf("phone: got %q, want %s and %d digits", p, m.PhonePrefix, m.PhoneDigits)
				}
				name := customerName(rng, m)
				if n := len([]rune(name)); n < 2 || n > 100 {
					t.Fatalf("name: got %q, want 2 to 100 characters", name)
				}
				email := emailFor(rng, name)
				if a, err := mail.ParseAddress(email); err != nil || a.Address != email {
					t.Fatalf("email for %q: got %q (%v), want an address", name, email, err)
				}
				city := pickCity(rng, m)
				if !m.HasCity(city) {
					t.Fatalf("city: got %q, want one of %v", city, m.Cities)
				}
				cities[city] = true
				if l := addressLine(rng, m); len(l) < 3 || len(l) > 200 {
					t.Fatalf("address line: got %q", l)
				}
				if a := areaIn(rng, city); len(a) < 2 {
					t.Fatalf("area: got %q", a)
				}
			}
			if len(cities) < 3 {
				t.Errorf("cities: got %v, want shoppers from several", cities)
			}
		})
	}
}

// TestSeedRepeatsShoppers: the same seed draws the same shoppers, another
// seed others; identifiers are fresh every time.
func TestSeedRepeatsShoppers(t *testing.T) {
	sim, err := New(Config{BaseURL: "http://127.0.0.1:1", Now: func() time.Time { return peakTime }})
	if err != nil {
		t.Fatal(err)
	}
	draw := func(seed uint64) (shoppers []string, ids map[string]bool) {
		rng := rand.New(rand.NewPCG(seed, 2))
		ids = map[string]bool{}
		for range 50 {
			s := sim.NewSession(rng)
			shoppers = append(shoppers, string(s.Market.Code)+"/"+s.City+"/"+string(s.Lang))
			ids[s.AnonymousID] = true
		}
		return shoppers, ids
	}
	a, idsA := draw(4)
	b, idsB := draw(4)
	c, _ := draw(5)
	if !slices.Equal(a, b) {
		t.Errorf("same seed: got\n%v\n%v\nwant the same shoppers", a, b)
	}
	if slices.Equal(a, c) {
		t.Errorf("seeds 4 and 5: got the same shoppers %v, want others", a)
	}
	for id := range idsA {
		if idsB[id] || len(idsA) != 50 {
			t.Fatalf("anonymousId: got %q again (%d distinct of 50), want a fresh one per session", id, len(idsA))
		}
	}
}
