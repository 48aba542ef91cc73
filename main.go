// Command secflow runs Elastic Workflows YAML durably on Temporal.
//
// Run "secflow help" for the list of subcommands.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	_ "github.com/secflow/secflow/activities/all"
	"github.com/secflow/secflow/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
