//go:build deps

// Package deps pins the chosen dependencies while the packages that use them
// are being written; it is never built (build tag "deps").
package deps

import (
	_ "github.com/PagerDuty/go-pagerduty"
	_ "github.com/andygrunwald/go-jira"
	_ "github.com/elastic/go-elasticsearch/v8"
	_ "github.com/osteele/liquid"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/prometheus/client_golang/prometheus/promhttp"
	_ "github.com/slack-go/slack"
	_ "github.com/stretchr/testify/require"
	_ "github.com/temporalio/ui-server/v2/server"
	_ "github.com/temporalio/ui-server/v2/server/config"
	_ "github.com/temporalio/ui-server/v2/server/server_options"
	_ "go.temporal.io/sdk/client"
	_ "go.temporal.io/sdk/testsuite"
	_ "go.temporal.io/sdk/worker"
	_ "go.temporal.io/sdk/workflow"
	_ "go.temporal.io/server/common/authorization"
	_ "go.temporal.io/server/common/config"
	_ "go.temporal.io/server/common/dynamicconfig"
	_ "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	_ "go.temporal.io/server/schema/sqlite"
	_ "go.temporal.io/server/temporal"
	_ "gopkg.in/yaml.v3"
)
