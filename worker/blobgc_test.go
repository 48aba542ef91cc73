package worker

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/secflow/secflow/internal/blobstore"
	"github.com/secflow/secflow/internal/testenv"
)

func TestBlobGCAgeCheck(t *testing.T) {
	const day = 24 * time.Hour
	tests := []struct {
		name      string
		olderThan time.Duration
		retention time.Duration
		retErr    error
		wantErr   string
	}{
		{"30d over 7d retention", 30 * day, 7 * day, nil, ""},
		{"exactly retention plus a day", 8 * day, 7 * day, nil, ""},
		{"under retention plus a day", 8*day - time.Second, 7 * day, nil, "under the namespace retention"},
		{"under the store minimum", 12 * time.Hour, 0, nil, "under the minimum"},
		{"retention unknown", 30 * day, 0, errors.New("permission denied"), "permission denied"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := checkBlobGCAge(context.Background(), tc.olderThan, func(context.Context) (time.Duration, error) { return tc.retention, tc.retErr })
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("checkBlobGCAge = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestBlobGCPrepare(t *testing.T) {
	disk, err := blobstore.NewDisk(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))
	if start, err := prepareBlobGC(context.Background(), Config{Blobs: disk}, log); start != nil || err != nil {
		t.Fatalf("off by default: %v, %v", start != nil, err)
	}
	gc := BlobGC{OlderThan: 30 * 24 * time.Hour}
	if _, err := prepareBlobGC(context.Background(), Config{Blobs: blobstore.NewMemory(), BlobGC: gc}, log); err == nil || !strings.Contains(err.Error(), "cannot be collected") {
		t.Fatalf("memory store: %v", err)
	}
	// Without a client the retention cannot be checked: refuse.
	if _, err := prepareBlobGC(context.Background(), Config{Blobs: disk, BlobGC: gc}, log); err == nil || !strings.Contains(err.Error(), "namespace retention") {
		t.Fatalf("no client: %v", err)
	}
}

// fakeCollector records the collections it is asked for.
type fakeCollector struct {
	calls chan blobstore.GCOptions
	mu    sync.Mutex
	errs  []error // returned in turn
}

func (f *fakeCollector) GC(_ context.Context, opts blobstore.GCOptions) (blobstore.GCReport, error) {
	f.mu.Lock()
	var err error
	if len(f.errs) > 0 {
		err, f.errs = f.errs[0], f.errs[1:]
	}
	f.mu.Unlock()
	f.calls <- opts
	return blobstore.GCReport{Removed: 2, RemovedBytes: 10}, err
}

func TestBlobGCLoop(t *testing.T) {
	c := &fakeCollector{calls: make(chan blobstore.GCOptions), errs: []error{errors.New("disk on fire")}}
	var logs testenv.SyncBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	ctx, cancel := context.WithCancel(context.Background())
	tick := make(chan time.Time)
	done := make(chan struct{})
	go func() {
		defer close(done)
		blobGCLoop(ctx, c, 9*24*time.Hour, tick, log)
	}()
	// Once at start (fails, logged), then once per tick.
	for i := 0; i < 3; i++ {
		if i > 0 {
			tick <- time.Time{}
		}
		if opts := <-c.calls; opts.OlderThan != 9*24*time.Hour || opts.DryRun {
			t.Fatalf("collection %d with %+v", i, opts)
		}
	}
	cancel()
	<-done
	// The second collection's line is written before the loop takes the
	// third tick; the third's may be cut short by the cancellation.
	out := logs.String()
	if !strings.Contains(out, `msg="blob GC failed"`) || !strings.Contains(out, "disk on fire") || !strings.Contains(out, `msg="blob GC" removed=2`) {
		t.Fatalf("logs:\n%s", out)
	}
}
