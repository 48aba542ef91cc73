package cli

import (
	"errors"
	"flag"
	"strings"
)

// parseArgs parses args into fs like fs.Parse, but accepts flags before,
// between and after the positional arguments (`secflow test definitions/
// --run x`), which the flag package alone does not: it stops at the first
// positional argument. A "--" ends the flags; everything after it is
// positional. Afterwards fs.Args() holds the positional arguments in order.
func parseArgs(fs *flag.FlagSet, args []string) error {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if endedByDashDash(fs, args[:len(args)-len(rest)]) {
			positional = append(positional, rest...)
			break
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
	// Parsing "--" only sets fs.Args(); flag values are kept.
	return fs.Parse(append([]string{"--"}, positional...))
}

// endedByDashDash reports whether the flag package stopped after consuming a
// "--" terminator (and not a "--" given as the value of a flag) at the end of
// consumed.
func endedByDashDash(fs *flag.FlagSet, consumed []string) bool {
	n := len(consumed)
	if n == 0 || consumed[n-1] != "--" {
		return false
	}
	if n == 1 {
		return true
	}
	prev := consumed[n-2]
	if !strings.HasPrefix(prev, "-") || strings.Contains(prev, "=") || prev == "--" {
		return true
	}
	f := fs.Lookup(strings.TrimLeft(prev, "-"))
	if f == nil {
		return true
	}
	if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
		return true
	}
	return false // "--" was the value of the flag before it
}

// flagExit is the exit status for an error returned by parseArgs: 0 for -h
// (help was asked for and printed), 2 for a usage error.
func flagExit(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	return 2
}

// dialHint follows an error connecting to Temporal: what to check.
const dialHint = "Is Temporal running there? Start everything locally with `secflow dev`, or point --address (env TEMPORAL_ADDRESS) at your cluster."
