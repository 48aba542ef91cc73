package flowtest

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"
)

// Summary counts the outcome of a set of files.
type Summary struct {
	Files, Cases, Passed, Failed int
	// Broken counts files that could not run (their error is reported
	// instead of cases).
	Broken   int
	Duration time.Duration
}

// OK reports whether everything passed.
func (s Summary) OK() bool { return s.Failed == 0 && s.Broken == 0 }

// Summarize counts results.
func Summarize(results []*FileResult) Summary {
	var s Summary
	for _, f := range results {
		s.Files++
		s.Duration += f.Duration
		if f.Err != nil {
			s.Broken++
			continue
		}
		for _, c := range f.Cases {
			s.Cases++
			if c.Passed() {
				s.Passed++
			} else {
				s.Failed++
			}
		}
	}
	return s
}

// WriteText prints one line per case (ok / FAIL, with each difference
// indented below a failing case) and a summary line.
func WriteText(w io.Writer, results []*FileResult) Summary {
	for _, f := range results {
		if f.Err != nil {
			fmt.Fprintf(w, "FAIL  %s\n", f.Path)
			for _, line := range strings.Split(f.Err.Error(), "\n") {
				fmt.Fprintf(w, "      %s\n", line)
			}
			continue
		}
		for _, c := range f.Cases {
			verdict := "ok  "
			if !c.Passed() {
				verdict = "FAIL"
			}
			fmt.Fprintf(w, "%s  %s: %s (%s)\n", verdict, f.Path, c.Name, round(c.Duration))
			for _, fl := range c.Failures {
				fmt.Fprintf(w, "      %s\n", fl)
			}
		}
	}
	s := Summarize(results)
	fmt.Fprintln(w, s.String())
	return s
}

// String is the summary line.
func (s Summary) String() string {
	verdict := "PASS"
	if !s.OK() {
		verdict = "FAIL"
	}
	line := fmt.Sprintf("%s: %d passed, %d failed (%d %s in %d %s, %s)", verdict, s.Passed, s.Failed,
		s.Cases, plural(s.Cases, "case"), s.Files, plural(s.Files, "file"), round(s.Duration))
	if s.Broken > 0 {
		line += fmt.Sprintf("; %d %s could not run", s.Broken, plural(s.Broken, "file"))
	}
	return line
}

func plural(n int, w string) string {
	if n == 1 {
		return w
	}
	return w + "s"
}

func round(d time.Duration) time.Duration {
	if d < time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(10 * time.Millisecond)
}

// JUnit XML model (the subset CI systems read).
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	Error     *junitFailure `xml:"error,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",chardata"`
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

// WriteJUnit writes the results as JUnit XML: one testsuite per file, one
// testcase per case; a file that could not run is one testcase with an
// error.
func WriteJUnit(w io.Writer, results []*FileResult) (Summary, error) {
	s := Summarize(results)
	doc := junitSuites{Time: seconds(s.Duration)}
	for _, f := range results {
		js := junitSuite{Name: f.Path, Time: seconds(f.Duration)}
		if f.Err != nil {
			js.Tests, js.Errors = 1, 1
			js.Cases = append(js.Cases, junitCase{Name: "load", Classname: f.Path, Time: seconds(f.Duration),
				Error: &junitFailure{Message: firstLine(f.Err.Error()), Type: "LoadError", Text: f.Err.Error()}})
		}
		for _, c := range f.Cases {
			jc := junitCase{Name: c.Name, Classname: f.Path, Time: seconds(c.Duration)}
			js.Tests++
			if !c.Passed() {
				js.Failures++
				var lines []string
				for _, fl := range c.Failures {
					lines = append(lines, fl.String())
				}
				jc.Failure = &junitFailure{Message: firstLine(lines[0]), Type: "ExpectationFailed", Text: strings.Join(lines, "\n")}
			}
			js.Cases = append(js.Cases, jc)
		}
		doc.Tests += js.Tests
		doc.Failures += js.Failures
		doc.Errors += js.Errors
		doc.Suites = append(doc.Suites, js)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return s, err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return s, fmt.Errorf("writing JUnit XML: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return s, err
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
