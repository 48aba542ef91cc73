package cli

import (
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/secflow/secflow/internal/blobstore"
	"github.com/secflow/secflow/internal/temporalclient"
)

// runService finishes a long-running command (`secflow worker`, `secflow
// starter`): it sets the help text (a usage line, the description lines,
// the flags), parses args into fs, builds the logger the common flags ask
// for and runs main with it. It returns 2 for bad flags or log settings, 1
// when main fails (logged as "<name> failed") and 0 otherwise.
func runService(fs *flag.FlagSet, common *commonFlags, args []string, stderr io.Writer, description []string, main func(*slog.Logger) error) int {
	name := fs.Name()
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: secflow %s [flags]\n", name)
		fmt.Fprintln(stderr)
		for _, line := range description {
			fmt.Fprintln(stderr, line)
		}
		fmt.Fprintln(stderr)
		fs.PrintDefaults()
	}
	if err := parseArgs(fs, args); err != nil {
		return flagExit(err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "secflow %s: unexpected arguments %q (%s takes only flags; see secflow %s -h)\n", name, fs.Args(), name, name)
		return 2
	}
	log, err := common.logger(stderr)
	if err != nil {
		fmt.Fprintf(stderr, "secflow %s: %v\n", name, err)
		return 2
	}
	if err := main(log); err != nil {
		log.Error(name+" failed", "error", err)
		return 1
	}
	return 0
}

// openBlobStore opens (creating it if needed) the disk blob store in dir
// ("" means blobstore.DefaultDir). When topts configures a payload
// encryption key ring (topts.Payload, as for the Temporal client's data
// converter), the store seals the files it writes with the ring's current
// key and opens sealed files with any key of the ring; plain files keep
// reading.
func openBlobStore(dir string, topts *temporalclient.Options) (*blobstore.Disk, error) {
	blobs, err := blobstore.NewDisk(dir)
	if err != nil {
		return nil, err
	}
	if topts == nil {
		return blobs, nil
	}
	codec, err := topts.Payload.Load()
	if err != nil {
		return nil, fmt.Errorf("blob store: %w", err)
	}
	if codec == nil {
		return blobs, nil
	}
	return blobs.WithSealer(codec), nil
}
