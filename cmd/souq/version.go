package main

import (
	"runtime/debug"
)

// version and revision are stamped by a release build, where the source has
// no VCS metadata to read (a container build copies the tree without .git):
//
//	go build -ldflags "-X main.version=v1.2.3 -X main.revision=$(git rev-parse HEAD)" ./cmd/souq
//
// Left empty, they come from the build information Go records.
var (
	version  string
	revision string
)

// versionString reports the module version and VCS revision the binary was
// built from.
func versionString() string {
	info, ok := debug.ReadBuildInfo()
	return formatVersion(version, revision, info, ok)
}

// formatVersion prefers the stamped version and revision to the build
// information's.
func formatVersion(stampedVersion, stampedRevision string, info *debug.BuildInfo, ok bool) string {
	if !ok {
		info = &debug.BuildInfo{Main: debug.Module{Version: "(unknown version)"}, GoVersion: ""}
	}
	v, rev, dirty := info.Main.Version, "", false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if stampedVersion != "" {
		v = stampedVersion
	}
	if stampedRevision != "" {
		rev, dirty = stampedRevision, false
	}
	out := "souq " + v
	if rev != "" {
		out += " " + rev
		if dirty {
			out += "-dirty"
		}
	}
	if info.GoVersion != "" {
		out += " " + info.GoVersion
	}
	return out
}
