package cli

import (
	"flag"
	"io"
	"reflect"
	"testing"
)

func TestParseArgs(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		run     string
		verbose bool
		inputs  []string
		pos     []string
		wantErr bool
	}{
		{name: "flags first", args: []string{"--run", "x", "a", "b"}, run: "x", pos: []string{"a", "b"}},
		{name: "flags last", args: []string{"a", "b", "--run", "x"}, run: "x", pos: []string{"a", "b"}},
		{name: "flags between", args: []string{"a", "-v", "b", "--run=x"}, run: "x", verbose: true, pos: []string{"a", "b"}},
		{name: "repeated flag around positional", args: []string{"--input", "k=1", "id", "--input", "j=2"}, inputs: []string{"k=1", "j=2"}, pos: []string{"id"}},
		{name: "no positional", args: []string{"-v"}, verbose: true},
		{name: "dash dash ends flags", args: []string{"a", "--", "--run", "b"}, pos: []string{"a", "--run", "b"}},
		{name: "dash dash after bool flag", args: []string{"-v", "--", "-x"}, verbose: true, pos: []string{"-x"}},
		{name: "dash dash as flag value", args: []string{"--run", "--", "a", "-v"}, run: "--", verbose: true, pos: []string{"a"}},
		{name: "single dash is positional", args: []string{"-", "-v"}, verbose: true, pos: []string{"-"}},
		{name: "unknown flag after positional", args: []string{"a", "--nope"}, wantErr: true},
		{name: "missing value after positional", args: []string{"a", "--run"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := flag.NewFlagSet("t", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			run := fs.String("run", "", "")
			verbose := fs.Bool("v", false, "")
			var inputs runInputs
			fs.Var(&inputs, "input", "")
			err := parseArgs(fs, tt.args)
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseArgs(%q) error = %v, wantErr %v", tt.args, err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			if *run != tt.run || *verbose != tt.verbose || !reflect.DeepEqual([]string(inputs), tt.inputs) {
				t.Errorf("parseArgs(%q): run=%q v=%v inputs=%q, want %q %v %q", tt.args, *run, *verbose, inputs, tt.run, tt.verbose, tt.inputs)
			}
			if got := fs.Args(); !(len(got) == 0 && len(tt.pos) == 0) && !reflect.DeepEqual(got, tt.pos) {
				t.Errorf("parseArgs(%q): positional %q, want %q", tt.args, got, tt.pos)
			}
		})
	}
}

func TestFlagExit(t *testing.T) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	if got := flagExit(parseArgs(fs, []string{"x", "-h"})); got != 0 {
		t.Errorf("-h: exit %d, want 0", got)
	}
	if got := flagExit(parseArgs(fs, []string{"--bogus"})); got != 2 {
		t.Errorf("unknown flag: exit %d, want 2", got)
	}
}
