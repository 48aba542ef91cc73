package bearer

import "testing"

func TestAuthorized(t *testing.T) {
	tokens := New("tok-1", "", "tok-2")
	for _, tc := range []struct {
		name, header string
		want         bool
	}{
		{"first token", "Bearer tok-1", true},
		{"second token", "Bearer tok-2", true},
		{"scheme is case-insensitive", "bEaReR tok-2", true},
		{"surrounding space trimmed", "Bearer   tok-1 ", true},
		{"unknown token", "Bearer tok-3", false},
		{"prefix of a token", "Bearer tok", false},
		{"token with a suffix", "Bearer tok-10", false},
		{"empty credentials never match the skipped empty token", "Bearer ", false},
		{"other scheme", "Basic tok-1", false},
		{"bare token", "tok-1", false},
		{"no header", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tokens.Authorized(tc.header); got != tc.want {
				t.Fatalf("Authorized(%q) = %v, want %v", tc.header, got, tc.want)
			}
		})
	}
	if New("", "").Authorized("Bearer ") {
		t.Error("an empty token set authorized a request")
	}
}

func TestCredentials(t *testing.T) {
	for _, tc := range []struct {
		header, cred string
		ok           bool
	}{
		{"Bearer abc", "abc", true},
		{"bearer  abc ", "abc", true},
		{"Bearer ", "", true},
		{"Bearer", "", false},
		{"Basic abc", "", false},
	} {
		cred, ok := Credentials(tc.header)
		if cred != tc.cred || ok != tc.ok {
			t.Errorf("Credentials(%q) = %q, %v; want %q, %v", tc.header, cred, ok, tc.cred, tc.ok)
		}
	}
}
