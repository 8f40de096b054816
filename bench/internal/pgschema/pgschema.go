// Package pgschema gives benchmarks fresh schemas on a PostgreSQL server:
// each configuration measured gets one of its own (CREATE SCHEMA
// bench_<random>) and a URL whose search_path names it, so what one
// configuration wrote never weighs on the next, and nothing is left behind.
package pgschema

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Server is a PostgreSQL server a benchmark creates schemas on. It
// remembers the schemas it created and not yet dropped, so Close can
// drop them when a run ends early. It is safe for concurrent use.
type Server struct {
	url  string
	pool *pgxpool.Pool

	mu   sync.Mutex
	live map[string]bool // schemas created and not dropped
}

// Connect connects to the server at rawURL (postgres://…).
func Connect(ctx context.Context, rawURL string) (*Server, error) {
	cfg, err := pgxpool.ParseConfig(rawURL)
	if err != nil {
		return nil, fmt.Errorf("database URL: %w", err)
	}
	cfg.MaxConns = 2
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	return &Server{url: rawURL, pool: pool, live: map[string]bool{}}, nil
}

// Show returns the value of a server setting (SHOW name), e.g.
// server_version or synchronous_commit.
func (s *Server) Show(ctx context.Context, name string) (string, error) {
	var v string
	if err := s.pool.QueryRow(ctx, "SHOW "+name).Scan(&v); err != nil {
		return "", fmt.Errorf("show %s: %w", name, err)
	}
	return v, nil
}

// Connections returns how many connections the server has open now,
// this package's included.
func (s *Server) Connections(ctx context.Context) (int, error) {
	var n int
	if err := s.pool.QueryRow(ctx, "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'").Scan(&n); err != nil {
		return 0, fmt.Errorf("count connections: %w", err)
	}
	return n, nil
}

// Schema is a fresh schema: its name, and the server's URL with
// search_path set to it (pgx sends search_path as a runtime parameter, so
// every connection opened with the URL uses the schema).
type Schema struct {
	Name string
	URL  string
}

// Fresh creates a schema named bench_<random>.
func (s *Server) Fresh(ctx context.Context) (Schema, error) {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "bench_" + hex.EncodeToString(b)
	u, err := url.Parse(s.url)
	if err != nil {
		return Schema{}, fmt.Errorf("database URL: %w", err)
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	if _, err := s.pool.Exec(ctx, "CREATE SCHEMA "+name); err != nil {
		return Schema{}, fmt.Errorf("create schema %s: %w", name, err)
	}
	s.mu.Lock()
	s.live[name] = true
	s.mu.Unlock()
	return Schema{Name: name, URL: u.String()}, nil
}

// Drop drops a schema Fresh created, and all it holds. It runs even when
// ctx has ended (a benchmark drops its schemas on its way out), for at
// most 30 seconds.
func (s *Server) Drop(ctx context.Context, sc Schema) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if _, err := s.pool.Exec(ctx, "DROP SCHEMA IF EXISTS "+sc.Name+" CASCADE"); err != nil {
		return fmt.Errorf("drop schema %s: %w", sc.Name, err)
	}
	s.mu.Lock()
	delete(s.live, sc.Name)
	s.mu.Unlock()
	return nil
}

// Close drops the schemas still there and closes the connections.
func (s *Server) Close(ctx context.Context) error {
	s.mu.Lock()
	var left []string
	for name := range s.live {
		left = append(left, name)
	}
	s.mu.Unlock()
	var first error
	for _, name := range left {
		if err := s.Drop(ctx, Schema{Name: name}); err != nil && first == nil {
			first = err
		}
	}
	s.pool.Close()
	return first
}
