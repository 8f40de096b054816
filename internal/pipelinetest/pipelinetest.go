// Package pipelinetest opens the event pipeline's embedded engines for
// tests: a SQLite database, a NATS JetStream server and an archive bucket,
// laid out in a fresh directory as souq serve lays out its data directory.
package pipelinetest

import (
	"path/filepath"
	"testing"

	"github.com/souq-commerce/souq/internal/fileblob"
	"github.com/souq-commerce/souq/internal/natsstream"
	"github.com/souq-commerce/souq/internal/sqlite"
)

// Engines are the opened engines and the directory that holds them: the
// database in souq.db, the stream in stream/ and the archive in archive/.
type Engines struct {
	Dir    string
	DB     *sqlite.DB
	Stream *natsstream.Stream
	Bucket *fileblob.Dir
}

// Open opens the engines in t.TempDir() and closes them when the test
// ends. so sets the stream's options; its StoreDir is set here.
func Open(t testing.TB, so natsstream.Options) Engines {
	t.Helper()
	e := Engines{Dir: t.TempDir()}
	var err error
	if e.DB, err = sqlite.Open(t.Context(), filepath.Join(e.Dir, "souq.db"), sqlite.Options{Synchronous: "normal"}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.DB.Close() })
	so.StoreDir = filepath.Join(e.Dir, "stream")
	if e.Stream, err = natsstream.Open(t.Context(), so); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Stream.Close() })
	if e.Bucket, err = fileblob.Open(filepath.Join(e.Dir, "archive")); err != nil {
		t.Fatal(err)
	}
	return e
}
