// Package all registers every integration's step types with the default
// step registry. Import it for its side effects: one line per integration
// package.
package all

import (
	_ "github.com/secflow/secflow/activities/slack" // slack, slack_api, slack_api.*, slack2.*
)
