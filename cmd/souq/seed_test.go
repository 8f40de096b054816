package main

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/souq-commerce/souq/internal/catalog"
	"github.com/souq-commerce/souq/internal/sqlite"
)

func TestSeed(t *testing.T) {
	data := t.TempDir()
	var out, errOut bytes.Buffer
	args := []string{"seed", "--data", data, "--products", "1500"}
	if err := run(t.Context(), args, func(string) string { return "" }, &out, &errOut); err != nil {
		t.Fatalf("seed: %v (%s)", err, errOut.String())
	}
	if !strings.Contains(out.String(), "created 1500 products") {
		t.Errorf("seed printed %q", out.String())
	}
	db, err := sqlite.Open(t.Context(), filepath.Join(data, "souq.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	n, err := db.CountProducts(t.Context(), catalog.Query{Market: "AE"}, 0)
	db.Close()
	if err != nil || n != 1500 {
		t.Errorf("products sold in the UAE: got %d (%v), want 1500", n, err)
	}

	err = run(t.Context(), args, func(string) string { return "" }, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "already has products") {
		t.Errorf("seeding again: got %v, want a refusal", err)
	}
	for _, bad := range []string{"0", "1000001", "many"} {
		err := run(t.Context(), []string{"seed", "--data", t.TempDir(), "--products", bad}, func(string) string { return "" }, &out, &errOut)
		if !errors.Is(err, errUsage) {
			t.Errorf("--products %s: got %v, want a usage error", bad, err)
		}
	}
}
