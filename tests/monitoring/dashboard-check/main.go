// dashboard-check reads Grafana dashboards (JSON files named on the command line) with Grafana's
// own Foundation SDK, strictly: an unknown field anywhere, a missing required one, a wrong type
// or a value out of its range fails. `cargo xtask check` (step dashboard) runs it on the chart's
// dashboard.
package main

import (
	"fmt"
	"os"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// found is err unless it is an empty cog.BuildErrors: the SDK's strict reader returns its
// error list even when the list is empty.
func found(err error) error {
	if errs, ok := err.(cog.BuildErrors); ok && len(errs) == 0 {
		return nil
	}
	return err
}

func check(path string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var board dashboard.Dashboard
	if err := found(board.UnmarshalJSONStrict(raw)); err != nil {
		return err
	}
	return found(board.Validate())
}

func main() {
	// The panel and query kinds (timeseries, stat, prometheus, ...) the SDK knows.
	plugins.RegisterDefaultPlugins()
	failed := false
	for _, path := range os.Args[1:] {
		if err := check(path); err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", path, err)
			failed = true
		}
	}
	if failed {
		os.Exit(1)
	}
}
