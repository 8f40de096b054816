package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// errUsage marks a command-line mistake; its message has been printed with
// the usage already.
var errUsage = errors.New("usage")

const topUsage = `Souq: an open-source commerce stack for the Gulf.

Usage:
  souq <command> [flags]

Commands:
  serve     run the shop and the event pipeline on embedded engines (--demo: demo data and shoppers)
  migrate   apply the database migrations without serving (SQLite or PostgreSQL)
  seed      create a large catalogue for load tests: souq seed --products 100000
  audit     reconcile orders, outbox, stream, archive and aggregates for a time range
  load      rehearse a sale's rush: simulated shoppers against a shop, latency percentiles, SLO exit code
  plan      capacity and cost of a sale on EKS from a load report: pods, nodes, RDS, Redis, NATS, KEDA pre-scale, $/sale
  version   print the version
  help      print help for a command: souq help serve

Every flag has an environment twin: --admin-token is SOUQ_ADMIN_TOKEN.
`

const versionUsage = `Usage: souq version

Prints the module version, the VCS revision the binary was built from and the
Go version.
`

// run is the whole program behind main: it parses args, reads the
// environment through getenv and writes to stdout and stderr, so tests can
// run it in process.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, topUsage)
		return fmt.Errorf("%w: no command given", errUsage)
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return runServe(ctx, rest, getenv, stdout, stderr)
	case "audit":
		return runAudit(ctx, rest, getenv, stdout, stderr)
	case "load":
		return runLoad(ctx, rest, getenv, stdout, stderr)
	case "plan":
		return runPlan(ctx, rest, getenv, stdout, stderr)
	case "seed":
		return runSeed(ctx, rest, getenv, stdout, stderr)
	case "migrate":
		return runMigrate(ctx, rest, getenv, stdout, stderr)
	case "version", "--version":
		if len(rest) > 0 {
			fmt.Fprint(stdout, versionUsage)
			if rest[0] == "-h" || rest[0] == "--help" {
				return nil
			}
			return fmt.Errorf("%w: version takes no arguments", errUsage)
		}
		fmt.Fprintln(stdout, versionString())
		return nil
	case "help", "-h", "--help":
		switch {
		case len(rest) > 0 && rest[0] == "serve":
			return runServe(ctx, []string{"-h"}, getenv, stdout, stderr)
		case len(rest) > 0 && rest[0] == "audit":
			return runAudit(ctx, []string{"-h"}, getenv, stdout, stderr)
		case len(rest) > 0 && rest[0] == "load":
			return runLoad(ctx, []string{"-h"}, getenv, stdout, stderr)
		case len(rest) > 0 && rest[0] == "plan":
			return runPlan(ctx, []string{"-h"}, getenv, stdout, stderr)
		case len(rest) > 0 && rest[0] == "seed":
			return runSeed(ctx, []string{"-h"}, getenv, stdout, stderr)
		case len(rest) > 0 && rest[0] == "migrate":
			return runMigrate(ctx, []string{"-h"}, getenv, stdout, stderr)
		case len(rest) > 0 && rest[0] == "version":
			fmt.Fprint(stdout, versionUsage)
			return nil
		}
		fmt.Fprint(stdout, topUsage)
		return nil
	default:
		fmt.Fprint(stderr, topUsage)
		return fmt.Errorf("%w: unknown command %q", errUsage, cmd)
	}
}

func exitCode(err error) int {
	if errors.Is(err, errUsage) {
		return 2
	}
	return 1
}

// envName is the environment twin of a flag: SOUQ_ plus the flag's name in
// upper case with '-' as '_'.
func envName(flagName string) string {
	return "SOUQ_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// parseFlags parses args into fs, then fills every flag not given on the
// command line from its environment twin. Usage text names the twins.
func parseFlags(fs *flag.FlagSet, args []string, getenv func(string) string, stderr io.Writer, intro string) error {
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), intro)
		fs.VisitAll(func(f *flag.Flag) {
			name, usage := flag.UnquoteUsage(f)
			fmt.Fprintf(fs.Output(), "  --%s %s\n    \t%s (env %s", f.Name, name, usage, envName(f.Name))
			if f.DefValue != "" && f.DefValue != "false" {
				fmt.Fprintf(fs.Output(), ", default %s", f.DefValue)
			}
			fmt.Fprintln(fs.Output(), ")")
		})
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return flag.ErrHelp
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("%w: unexpected arguments %q", errUsage, fs.Args())
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || err != nil {
			return
		}
		if v := getenv(envName(f.Name)); v != "" {
			if serr := fs.Set(f.Name, v); serr != nil {
				err = fmt.Errorf("%w: %s=%q: %v", errUsage, envName(f.Name), v, serr)
			}
		}
	})
	return err
}
