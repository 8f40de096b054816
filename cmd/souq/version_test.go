package main

import (
	"runtime/debug"
	"testing"
)

func TestFormatVersion(t *testing.T) {
	built := &debug.BuildInfo{
		GoVersion: "go1.26.8",
		Main:      debug.Module{Version: "(devel)"},
		Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "abc123"},
			{Key: "vcs.modified", Value: "true"},
		},
	}
	for _, c := range []struct {
		name, version, revision string
		info                    *debug.BuildInfo
		ok                      bool
		want                    string
	}{
		{"build info", "", "", built, true, "souq (devel) abc123-dirty go1.26.8"},
		{"stamped", "v1.4.0", "def456", built, true, "souq v1.4.0 def456 go1.26.8"},
		{"stamped version only", "v1.4.0", "", built, true, "souq v1.4.0 abc123-dirty go1.26.8"},
		{"no build info", "", "", nil, false, "souq (unknown version)"},
		{"no build info, stamped", "v1.4.0", "def456", nil, false, "souq v1.4.0 def456"},
	} {
		if got := formatVersion(c.version, c.revision, c.info, c.ok); got != c.want {
			t.Errorf("%s: formatVersion = %q, want %q", c.name, got, c.want)
		}
	}
}
