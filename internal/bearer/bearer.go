// Package bearer checks "Authorization: Bearer <token>" credentials against
// a set of configured tokens in constant time: the one implementation behind
// the starter's API authentication, the codec server (payloadcodec) and
// the /metrics guard (metricsauth).
package bearer

import (
	"crypto/sha256"
	"crypto/subtle"
	"strings"
)

// Tokens is a set of accepted bearer tokens, kept as SHA-256 digests so that
// every comparison is between equal-length values and constant-time: neither
// the content nor the length of a token leaks through timing.
type Tokens [][32]byte

// New returns the set of the non-empty tokens (an empty token never matches).
func New(tokens ...string) Tokens {
	var set Tokens
	for _, t := range tokens {
		if t != "" {
			set = append(set, sha256.Sum256([]byte(t)))
		}
	}
	return set
}

// Credentials extracts the credentials of a Bearer Authorization header
// value (the scheme is case-insensitive, RFC 7235; surrounding white space
// is trimmed). ok is false when the header does not use the Bearer scheme.
func Credentials(header string) (cred string, ok bool) {
	scheme, cred, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimSpace(cred), true
}

// Match reports whether cred is one of the tokens. Every token is compared,
// whichever matches, so the time taken does not tell which one did.
func (t Tokens) Match(cred string) bool {
	sum := sha256.Sum256([]byte(cred))
	match := 0
	for _, want := range t {
		match |= subtle.ConstantTimeCompare(sum[:], want[:])
	}
	return match == 1
}

// Authorized reports whether the Authorization header value carries one of
// the tokens as Bearer credentials.
func (t Tokens) Authorized(header string) bool {
	cred, ok := Credentials(header)
	return ok && len(t) > 0 && t.Match(cred)
}
