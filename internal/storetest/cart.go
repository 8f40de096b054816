package storetest

import (
	"testing"
	"time"

	"github.com/souq-commerce/souq/internal/souq"
)

// newCart returns an empty cart in AE created (and updated) at t0+d.
func newCart(id string, d time.Duration) souq.Cart {
	return souq.Cart{ID: souq.ID(id), Market: souq.AE, CreatedAt: at(d), UpdatedAt: at(d)}
}

// getCart reads a cart, failing at once on an error.
func getCart(t *testing.T, s Store, id souq.ID) souq.Cart {
	t.Helper()
	c, err := s.Cart(t.Context(), id)
	must(t, "Cart", err)
	return c
}

func testCartItems(t *testing.T, s Store) {
	c := newCart("cart_1", 0)
	must(t, "CreateCart", s.CreateCart(t.Context(), c))
	checkDiff(t, "new cart", getCart(t, s, c.ID), c)

	item := func(id string, q int) souq.CartItem { return souq.CartItem{ProductID: souq.ID(id), Quantity: q} }
	steps := []struct {
		name string
		set  souq.CartItem
		want []souq.CartItem
	}{
		{"add b", item("prd_b", 1), []souq.CartItem{item("prd_b", 1)}},
		{"add a", item("prd_a", 2), []souq.CartItem{item("prd_b", 1), item("prd_a", 2)}},
		{"add c", item("prd_c", 1), []souq.CartItem{item("prd_b", 1), item("prd_a", 2), item("prd_c", 1)}},
		{"change b keeps its place", item("prd_b", 5), []souq.CartItem{item("prd_b", 5), item("prd_a", 2), item("prd_c", 1)}},
		{"remove a", item("prd_a", 0), []souq.CartItem{item("prd_b", 5), item("prd_c", 1)}},
		{"add a again goes last", item("prd_a", 3), []souq.CartItem{item("prd_b", 5), item("prd_c", 1), item("prd_a", 3)}},
		{"remove what is not there", item("prd_z", 0), []souq.CartItem{item("prd_b", 5), item("prd_c", 1), item("prd_a", 3)}},
	}
	for i, step := range steps {
		when := at(time.Duration(i+1) * time.Minute)
		must(t, step.name, s.SetCartItem(t.Context(), c.ID, step.set, when))
		want := c
		want.Items, want.UpdatedAt = step.want, when
		checkDiff(t, "cart after "+step.name, getCart(t, s, c.ID), want)
	}
}

func testCartMarket(t *testing.T, s Store) {
	c := newCart("cart_1", 0)
	must(t, "CreateCart", s.CreateCart(t.Context(), c))
	must(t, "SetCartItem", s.SetCartItem(t.Context(), c.ID, souq.CartItem{ProductID: "prd_a", Quantity: 2}, at(time.Minute)))
	must(t, "SetCartMarket", s.SetCartMarket(t.Context(), c.ID, souq.KW, at(2*time.Minute)))
	want := c
	want.Market, want.UpdatedAt = souq.KW, at(2*time.Minute)
	want.Items = []souq.CartItem{{ProductID: "prd_a", Quantity: 2}}
	checkDiff(t, "cart after SetCartMarket", getCart(t, s, c.ID), want)
}

func testCartNotFound(t *testing.T, s Store) {
	must(t, "CreateCart", s.CreateCart(t.Context(), newCart("cart_1", 0)))
	_, err := s.Cart(t.Context(), "cart_missing")
	checkKind(t, "Cart(missing)", err, souq.ErrNotFound)
	err = s.SetCartItem(t.Context(), "cart_missing", souq.CartItem{ProductID: "prd_a", Quantity: 1}, t0)
	checkKind(t, "SetCartItem(missing)", err, souq.ErrNotFound)
	checkKind(t, "SetCartMarket(missing)", s.SetCartMarket(t.Context(), "cart_missing", souq.SA, t0), souq.ErrNotFound)
}

func testCartDeleteIdle(t *testing.T, s Store) {
	old, touched, fresh := newCart("cart_old", 0), newCart("cart_touched", 0), newCart("cart_fresh", 2*time.Hour)
	for _, c := range []souq.Cart{old, touched, fresh} {
		must(t, "CreateCart", s.CreateCart(t.Context(), c))
	}
	must(t, "SetCartItem", s.SetCartItem(t.Context(), old.ID, souq.CartItem{ProductID: "prd_a", Quantity: 1}, at(time.Minute)))
	must(t, "SetCartItem", s.SetCartItem(t.Context(), touched.ID, souq.CartItem{ProductID: "prd_a", Quantity: 1}, at(90*time.Minute)))

	n, err := s.DeleteCartsIdleSince(t.Context(), at(time.Hour))
	must(t, "DeleteCartsIdleSince", err)
	if n != 1 {
		t.Errorf("DeleteCartsIdleSince: got %d removed, want 1", n)
	}
	_, err = s.Cart(t.Context(), old.ID)
	checkKind(t, "Cart(idle cart)", err, souq.ErrNotFound)
	for _, id := range []souq.ID{touched.ID, fresh.ID} {
		if _, err := s.Cart(t.Context(), id); err != nil {
			t.Errorf("Cart(%s) after removing idle carts: got error %v, want nil", id, err)
		}
	}
	n, err = s.DeleteCartsIdleSince(t.Context(), at(time.Hour))
	must(t, "DeleteCartsIdleSince again", err)
	if n != 0 {
		t.Errorf("DeleteCartsIdleSince again: got %d removed, want 0", n)
	}
}
