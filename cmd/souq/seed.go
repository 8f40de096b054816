package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/souq-commerce/souq/internal/catalog"
	"github.com/souq-commerce/souq/internal/demo"
	"github.com/souq-commerce/souq/internal/souq"
	"github.com/souq-commerce/souq/internal/sqlite"
)

const seedUsage = `Usage: souq seed --products N [flags]

Creates a large, realistic catalogue for load tests and benchmarks: the demo
catalogue's products, then variants of them (a shade, scent or edition and a
number in both names, a price within 20% of the original's), N products in
all, in batches of 1,000 transactions. The same N makes the same catalogue.
Seed an empty database, then start serve on it (with --demo, serve also
schedules its flash sale over it). On SQLite stop serve first: seed writes
to the database file directly, with synchronous=normal (a power cut during a seed
can lose its last batches; seed again into a new directory).

Flags:
`

// maxSeedProducts bounds --products.
const maxSeedProducts = 1_000_000

func runSeed(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var (
		data, database string
		products       int
	)
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	fs.StringVar(&data, "data", "./souq-data", "data `directory` souq serve uses")
	fs.StringVar(&database, "database", "", databaseFlagUsage)
	fs.IntVar(&products, "products", 0, "how many `products` to create (1 to 1,000,000)")
	err := parseFlags(fs, args, getenv, stderr, seedUsage)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	if products < 1 || products > maxSeedProducts {
		fs.Usage()
		return fmt.Errorf("%w: --products must be between 1 and %d, not %d", errUsage, maxSeedProducts, products)
	}
	db, err := openDatabase(ctx, dbConfig{data: data, url: database, sqliteSync: sqlite.SyncNormal}, nil)
	if err != nil {
		return err
	}
	defer db.close()
	cat := catalog.New(db, time.Now, slog.New(slog.DiscardHandler))
	have, err := cat.List(ctx, catalog.ListInput{Market: souq.MustMarket(souq.AE), PageSize: 1})
	if err != nil {
		return fmt.Errorf("count products: %w", err)
	}
	if have.Total > 0 {
		return fmt.Errorf("the database %s already has products; seed an empty one (a new --data directory)", db.where)
	}
	start := time.Now()
	created, err := cat.CreateMany(ctx, demo.LargeCatalogue(products))
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	if err := db.Optimize(ctx); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	fmt.Fprintf(stdout, "created %d products in %s in %s\n", len(created), db.where, time.Since(start).Round(time.Millisecond))
	return nil
}
