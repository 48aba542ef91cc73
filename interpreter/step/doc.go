// Package step is the contract between the interpreter and the integrations,
// in the way database/sql/driver is the contract between database/sql and
// drivers.
//
// Every step type of the Elastic Workflows language is described once by a
// [Spec]: its YAML type name, the step-level config keys and `with` keys it
// accepts, the shape of its output, and — for side-effecting types — the
// activity function that performs it. Specs live in a [Registry]; the
// validator, the generated docs, the worker and the interpreter all read the
// same registry, so a step type is declared in exactly one place.
//
// This package imports only the standard library.
package step
