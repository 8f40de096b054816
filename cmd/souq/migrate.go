package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/souq-commerce/souq/internal/postgres"
	"github.com/souq-commerce/souq/internal/sqlite"
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
	fs.StringVar(&database, "database", "", "database `URL`: postgres://user@host/db or sqlite:///path/to/souq.db (default <data>/souq.db)")
	err := parseFlags(fs, args, getenv, stderr, migrateUsage)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	if strings.HasPrefix(database, "postgres://") || strings.HasPrefix(database, "postgresql://") {
		db, err := postgres.Open(ctx, database, postgres.Options{MaxConns: 2})
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		defer db.Close()
		if err := db.Ready(ctx); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		fmt.Fprintln(stdout, "PostgreSQL schema is up to date")
		return nil
	}
	path, err := sqlitePath(serveConfig{data: data, database: database})
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return fmt.Errorf("create database directory: %w", err)
	}
	db, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer db.Close()
	if err := db.Ready(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	fmt.Fprintf(stdout, "SQLite schema in %s is up to date\n", path)
	return nil
}
