package step

import (
	"context"
	"testing"
)

func noop(context.Context, Runtime, Input) (any, error) { return nil, nil }

func TestLookup(t *testing.T) {
	r := NewRegistry()
	for _, s := range []*Spec{
		{Type: "cases.createCase", Kind: KindActivity, Activity: noop},
		{Type: "slack2.*", Kind: KindActivity, Activity: noop},
		{Type: "elasticsearch.*", Kind: KindActivity, Activity: noop},
		{Type: "elasticsearch.indices.*", Kind: KindActivity, Activity: noop},
		{Type: "*", Kind: KindActivity, Activity: noop},
		{Type: "if", Kind: KindFlow},
	} {
		r.MustAdd(s)
	}
	tests := []struct {
		typ    string
		want   string
		wantOK bool
	}{
		{"cases.createCase", "cases.createCase", true},
		{"if", "if", true},
		{"slack2.postMessage", "slack2.*", true},
		{"elasticsearch.cat.indices", "elasticsearch.*", true},
		{"elasticsearch.indices.create", "elasticsearch.indices.*", true},
		{"virustotal.getIpReport", "*", true},
		{"slack", "*", true},
		{"cases.nope", "", false},   // reserved family: no generic fallback
		{"data.unknown", "", false}, // reserved family
		{"bad type!", "", false},    // not a connector type name
		{"", "", false},
	}
	for _, tt := range tests {
		s, ok := r.Lookup(tt.typ)
		if ok != tt.wantOK || (ok && s.Type != tt.want) {
			got := ""
			if s != nil {
				got = s.Type
			}
			t.Errorf("Lookup(%q) = %q, %v; want %q, %v", tt.typ, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestAddRejectsDuplicatesAndActivityWithoutFunc(t *testing.T) {
	r := NewRegistry()
	if err := r.Add(&Spec{Type: "x", Kind: KindPure}); err != nil {
		t.Fatal(err)
	}
	if err := r.Add(&Spec{Type: "x", Kind: KindPure}); err == nil {
		t.Error("duplicate type accepted")
	}
	if err := r.Add(&Spec{Type: "y", Kind: KindActivity}); err == nil {
		t.Error("activity spec without Activity func accepted")
	}
}

func TestAddChecksStatus(t *testing.T) {
	tests := []struct {
		status Status
		ok     bool
	}{
		{"", true}, // not declared: the catalogue test, not Add, requires one
		{StatusCore, true},
		{StatusNewer, true},
		{StatusPreview, true},
		{StatusLegacy, true},
		{"stable", false},
		{"Core", false},
	}
	for _, tt := range tests {
		err := NewRegistry().Add(&Spec{Type: "x", Kind: KindPure, Status: tt.status})
		if (err == nil) != tt.ok {
			t.Errorf("Add with status %q: err = %v, want ok %v", tt.status, err, tt.ok)
		}
	}
}

func TestStatusDescribe(t *testing.T) {
	for _, s := range Statuses() {
		if !s.Valid() || s.Describe() == "" {
			t.Errorf("status %q: Valid %v, Describe %q", s, s.Valid(), s.Describe())
		}
	}
	if Status("").Valid() || Status("").Describe() != "" {
		t.Error("the zero status counts as valid")
	}
}
