package main

import "testing"

// TestRedactURL: what serve prints of a URL keeps where it points and
// drops secrets, and a plain path stays a path.
func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://souq:secret@db:5432/souq?sslmode=require": "postgres://souq@db:5432/souq",
		"/var/lib/souq/archive":                               "/var/lib/souq/archive",
		"s3://archive/souq?region=me-central-1":               "s3://archive/souq",
		"redis://:secret@cache:6379/0":                        "redis://cache:6379/0",
		"nats://a:4222,nats://b:4222":                         "nats://a:4222,nats://b:4222",
		"nats://u:p@a:4222,nats://u:p@b:4222":                 "nats://u@a:4222,nats://u@b:4222",
	} {
		if got := redactURL(in); got != want {
			t.Errorf("redactURL(%q): got %q, want %q", in, got, want)
		}
	}
}
