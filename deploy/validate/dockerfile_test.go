package validate

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	line int
	cmd  string // upper case
	args string
}

// parseDockerfile is a small strict parser: comments, blank lines,
// backslash continuations and known instructions only.
func parseDockerfile(src string) ([]instruction, error) {
	known := map[string]bool{"FROM": true, "RUN": true, "CMD": true, "LABEL": true, "EXPOSE": true, "ENV": true, "ADD": true, "COPY": true,
		"ENTRYPOINT": true, "VOLUME": true, "USER": true, "WORKDIR": true, "ARG": true, "ONBUILD": true, "STOPSIGNAL": true, "HEALTHCHECK": true, "SHELL": true}
	var out []instruction
	sc := bufio.NewScanner(strings.NewReader(src))
	n := 0
	var cur *instruction
	for sc.Scan() {
		n++
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if cur == nil && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if cur != nil && strings.HasPrefix(trimmed, "#") {
			continue
		}
		cont := strings.HasSuffix(trimmed, "\\")
		trimmed = strings.TrimSuffix(trimmed, "\\")
		if cur == nil {
			cmd, args, _ := strings.Cut(trimmed, " ")
			cmd = strings.ToUpper(cmd)
			if !known[cmd] {
				return nil, fmt.Errorf("line %d: unknown instruction %q", n, cmd)
			}
			cur = &instruction{line: n, cmd: cmd, args: strings.TrimSpace(args)}
		} else {
			cur.args += " " + strings.TrimSpace(trimmed)
		}
		if !cont {
			out = append(out, *cur)
			cur = nil
		}
	}
	if cur != nil {
		return nil, fmt.Errorf("line %d: continuation at the end of the file", cur.line)
	}
	return out, nil
}

// checkDockerfile returns what breaks the image's rules.
func checkDockerfile(ins []instruction) []string {
	var errs []string
	stages := map[string]bool{}
	var froms []instruction
	user := ""
	for _, in := range ins {
		switch in.cmd {
		case "FROM":
			froms = append(froms, in)
			user = ""
			f := strings.Fields(in.args)
			image := f[0]
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				defer func(name string) { stages[name] = true }(f[2])
			}
			if stages[image] {
				continue
			}
			digest := regexp.MustCompile(`@sha256:[0-9a-f]{64}$`).MatchString(image)
			exactTag := regexp.MustCompile(`:[0-9]+\.[0-9]+\.[0-9]+[^@]*$`).MatchString(image)
			if !digest && !exactTag {
				errs = append(errs, fmt.Sprintf("line %d: base image %s is not pinned (digest or exact version)", in.line, image))
			}
		case "USER":
			user = in.args
		case "HEALTHCHECK":
			errs = append(errs, fmt.Sprintf("line %d: HEALTHCHECK: the probes do it", in.line))
		case "ENV", "ARG", "LABEL":
			if regexp.MustCompile(`(?i)(secret|token|password|passwd|api_?key|write_key)`).MatchString(in.args) {
				errs = append(errs, fmt.Sprintf("line %d: %s looks like a secret: %s", in.line, in.cmd, in.args))
			}
		case "ADD":
			errs = append(errs, fmt.Sprintf("line %d: ADD: use COPY", in.line))
		case "RUN":
			if strings.Contains(in.args, "go build") && (!strings.Contains(in.args, "CGO_ENABLED=0") || !strings.Contains(in.args, "main.version=") || !strings.Contains(in.args, "main.revision=")) {
				errs = append(errs, fmt.Sprintf("line %d: the build must be static (CGO_ENABLED=0) and stamp main.version and main.revision", in.line))
			}
		}
	}
	if len(froms) < 2 {
		errs = append(errs, "not a multi-stage build")
		return errs
	}
	last := froms[len(froms)-1]
	if !strings.Contains(last.args, "@sha256:") {
		errs = append(errs, "the runtime base image is not pinned by digest")
	}
	if !strings.Contains(last.args, "distroless") && !strings.HasPrefix(last.args, "scratch") {
		errs = append(errs, "the runtime image is neither distroless nor scratch")
	}
	if user == "" || user == "root" || user == "0" || strings.HasPrefix(user, "0:") || strings.HasPrefix(user, "root:") {
		errs = append(errs, fmt.Sprintf("the runtime stage runs as %q, want a non-root user", user))
	}
	copies := 0
	for _, in := range ins {
		if in.line > last.line && in.cmd == "COPY" {
			copies++
		}
		if in.line > last.line && in.cmd == "RUN" {
			errs = append(errs, fmt.Sprintf("line %d: RUN in the runtime stage: it has no shell", in.line))
		}
	}
	if copies != 1 {
		errs = append(errs, fmt.Sprintf("the runtime stage copies %d things, want the one binary", copies))
	}
	return errs
}

func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	ins, err := parseDockerfile(string(b))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range checkDockerfile(ins) {
		t.Error(e)
	}
	// Each broken variant must be caught.
	broken := map[string]string{
		"root user":        strings.Replace(string(b), "USER 65532:65532", "USER root", 1),
		"unpinned runtime": regexp.MustCompile(`static-debian12:nonroot@sha256:[0-9a-f]+`).ReplaceAllString(string(b), "static-debian12:nonroot"),
		"secret in ENV":    string(b) + "\nENV SOUQ_ADMIN_TOKEN=abc\n",
		"healthcheck":      string(b) + "\nHEALTHCHECK CMD [\"/usr/local/bin/souq\", \"version\"]\n",
		"cgo build":        strings.Replace(string(b), "CGO_ENABLED=0 ", "", 1),
		"latest base":      strings.Replace(string(b), "golang:1.26.8-bookworm", "golang:latest", 1),
	}
	for name, src := range broken {
		ins, err := parseDockerfile(src)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(checkDockerfile(ins)) == 0 {
			t.Errorf("%s: passed the Dockerfile rules", name)
		}
	}
}
