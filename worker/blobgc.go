package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/secflow/secflow/internal/blobstore"
)

// BlobGC configures the worker's periodic garbage collection of the blob
// store (off unless OlderThan is set). The worker refuses to start when
// OlderThan is under the namespace's retention plus a day: a closed run's
// history (and what it references) stays readable that long.
type BlobGC struct {
	// OlderThan is the age of blobstore.GCOptions: payloads not written or
	// read for longer are removed. 0 turns the collection off.
	OlderThan time.Duration
	// Every is the interval between collections (0: DefaultBlobGCEvery);
	// the first runs when the worker starts.
	Every time.Duration
}

// DefaultBlobGCEvery is the default interval of the periodic collection.
const DefaultBlobGCEvery = 6 * time.Hour

// blobCollector is a blob store that can collect itself (blobstore.Disk).
type blobCollector interface {
	GC(ctx context.Context, opts blobstore.GCOptions) (blobstore.GCReport, error)
}

// prepareBlobGC checks cfg.BlobGC and returns what starts the periodic
// collection (in a goroutine that ends with ctx); nil when it is off.
func prepareBlobGC(ctx context.Context, cfg Config, log *slog.Logger) (func(), error) {
	gc := cfg.BlobGC
	if gc.OlderThan == 0 {
		return nil, nil
	}
	c, ok := cfg.Blobs.(blobCollector)
	if !ok {
		return nil, errors.New("blob GC: the blob store cannot be collected (no disk blob store configured)")
	}
	if err := checkBlobGCAge(ctx, gc.OlderThan, namespaceRetention(cfg.Client, cfg.Namespace)); err != nil {
		return nil, err
	}
	every := gc.Every
	if every <= 0 {
		every = DefaultBlobGCEvery
	}
	return func() {
		log.Info("blob GC on", "older_than", gc.OlderThan.String(), "every", every.String())
		t := time.NewTicker(every)
		go func() {
			defer t.Stop()
			blobGCLoop(ctx, c, gc.OlderThan, t.C, log)
		}()
	}, nil
}

// blobGCMargin is added to the namespace retention for the smallest
// accepted age.
const blobGCMargin = 24 * time.Hour

// checkBlobGCAge refuses an age under blobstore.MinGCAge or under the
// namespace retention (as retention reports it) plus blobGCMargin.
func checkBlobGCAge(ctx context.Context, olderThan time.Duration, retention func(context.Context) (time.Duration, error)) error {
	if olderThan < blobstore.MinGCAge {
		return fmt.Errorf("blob GC: age %s is under the minimum of %s", olderThan, blobstore.MinGCAge)
	}
	r, err := retention(ctx)
	if err != nil {
		return fmt.Errorf("blob GC: reading the namespace retention to check the age against: %w", err)
	}
	if min := r + blobGCMargin; olderThan < min {
		return fmt.Errorf("blob GC: age %s is under the namespace retention %s plus %s; closed runs could still reference removed blobs", olderThan, r, blobGCMargin)
	}
	return nil
}

// namespaceRetention returns a function reading the retention of closed
// runs of namespace ns.
func namespaceRetention(c client.Client, ns string) func(context.Context) (time.Duration, error) {
	return func(ctx context.Context) (time.Duration, error) {
		if c == nil {
			return 0, errors.New("no Temporal client")
		}
		if ns == "" {
			ns = client.DefaultNamespace
		}
		resp, err := c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: ns})
		if err != nil {
			return 0, fmt.Errorf("describing namespace %s: %w", ns, err)
		}
		return resp.GetConfig().GetWorkflowExecutionRetentionTtl().AsDuration(), nil
	}
}

// blobGCLoop collects once at once, then at every tick, until ctx is
// done. Failures are logged: the next tick tries again.
func blobGCLoop(ctx context.Context, c blobCollector, olderThan time.Duration, tick <-chan time.Time, log *slog.Logger) {
	for {
		rep, err := c.GC(ctx, blobstore.GCOptions{OlderThan: olderThan})
		if ctx.Err() != nil {
			return
		}
		attrs := []any{"removed", rep.Removed, "removed_bytes", rep.RemovedBytes, "temporary_files", rep.Temps,
			"kept", rep.Kept, "kept_bytes", rep.KeptBytes, "cutoff", rep.Cutoff}
		if err != nil {
			log.Error("blob GC failed", append(attrs, "error", err)...)
		} else {
			log.Info("blob GC", attrs...)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick:
		}
	}
}
