// Package all registers every integration's step types with the default
// step registry. Import it for its side effects: one line per integration
// package.
package all
