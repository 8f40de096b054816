package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/souq-commerce/souq/internal/postgres"
)

const migrateUsage = `Usage: souq migrate [flags]

Applies the database migrations embedded in this binary, without serving,
then exits: run it once before rolling out a new version to several
replicas (serve also migrates at start). On PostgreSQL the migrations run
under an advisory lock, so concurrent runs and starting replicas apply each
one exactly once.

Flags:
`

func runMigrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var data, database string
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.StringVar(&data, "data", "./souq-data", "data `directory` souq serve uses")
	fs.StringVar(&database, "database", "", databaseFlagUsage)
	err := parseFlags(fs, args, getenv, stderr, migrateUsage)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	// Opening a database applies its migrations; Ready then confirms them.
	db, err := openDatabase(ctx, dbConfig{data: data, url: database, pg: postgres.Options{MaxConns: 2}}, nil)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer db.close()
	if err := db.Ready(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	fmt.Fprintf(stdout, "schema is up to date: %s\n", db.where)
	return nil
}
