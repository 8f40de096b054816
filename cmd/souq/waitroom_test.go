package main

import (
	"flag"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/souq-commerce/souq/internal/waitroom"
)

// TestRoomTokenVersion: --waitroom-token-version reaches the keys the
// waiting room signs with: v2 by default, v1 when asked for (the first
// step of a rolling upgrade from a release that takes only v1).
func TestRoomTokenVersion(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "v2."},
		{[]string{"--waitroom-token-version", "1"}, "v1."},
		{[]string{"--waitroom-token-version", "2"}, "v2."},
		{[]string{"--waitroom-token-version", "1", "--waitroom-secret", strings.Repeat("k", waitroom.MinSecretLength)}, "v1."},
	} {
		var r roomConfig
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		r.flags(fs)
		if err := fs.Parse(c.args); err != nil {
			t.Fatal(err)
		}
		if p := r.problems(false); len(p) > 0 {
			t.Fatalf("%v: %v", c.args, p)
		}
		ks, err := r.keys()
		if err != nil {
			t.Fatalf("%v: %v", c.args, err)
		}
		tok := ks.Issue(waitroom.Admission{Sale: "sale_1", Cart: "cart_1", Expires: time.Now().Add(time.Minute)})
		if !strings.HasPrefix(tok, c.want) {
			t.Errorf("%v: issued %q, want a %s… token", c.args, tok, c.want)
		}
	}
}
