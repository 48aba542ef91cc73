// Package devstack runs a complete Temporal development stack inside the
// current process: a real Temporal server (all four services, SQLite
// persistence in a file) and the Temporal Web UI, both on 127.0.0.1 only,
// with secflow's custom search attributes registered.
//
// It is for `secflow dev` and for tests; production code paths (the worker
// and starter commands) must not import it — they connect to an existing
// cluster through internal/temporalclient.
package devstack

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"
	uiserver "github.com/temporalio/ui-server/v2/server"
	uiconfig "github.com/temporalio/ui-server/v2/server/config"
	uiserveroptions "github.com/temporalio/ui-server/v2/server/server_options"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/common/headers"
	"go.temporal.io/server/common/membership/static"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	"go.temporal.io/server/common/primitives"
	"go.temporal.io/server/common/primitives/timestamp"
	sqliteschema "go.temporal.io/server/schema/sqlite"
	"go.temporal.io/server/temporal"

	"github.com/secflow/secflow/internal/searchattr"
)

// Defaults used by DefaultOptions and for empty Options fields.
const (
	DefaultDataDir   = ".secflow"
	DefaultGRPCPort  = 7233
	DefaultUIPort    = 8233
	DefaultNamespace = "default"
	// DefaultRetention is how long closed runs of a newly created namespace
	// are kept (the dev server of the temporal CLI keeps 24h).
	DefaultRetention = 7 * 24 * time.Hour
	// DefaultSQLiteMaxConns is the connection pool size of the SQLite store.
	// One connection, set explicitly: measured on 2 vCPU (300 workflows of
	// two activities, 20 in flight), 1 connection ran 41 workflows/s with no
	// errors, 4 connections 18.5/s with ~60 "database is locked"
	// (SQLITE_BUSY / BUSY_SNAPSHOT from deferred transactions upgrading to
	// write; busy_timeout does not help there) and lost shard ownership.
	DefaultSQLiteMaxConns = 1

	host        = "127.0.0.1"
	clusterName = "active"
)

// Options configures Start. A zero port means "pick a free port" (tests);
// use DefaultOptions for the well-known ports.
type Options struct {
	// DataDir holds the SQLite database; created if missing. Empty means DefaultDataDir.
	DataDir string
	// GRPCPort is the frontend gRPC port (0: a free port).
	GRPCPort int
	// UIPort is the Web UI port (0: a free port). Ignored with NoUI.
	UIPort int
	// NoUI skips the Web UI.
	NoUI bool
	// CodecEndpoint, when set, is the codec server URL the Web UI sends
	// encrypted payloads to for display (internal/payloadcodec).
	CodecEndpoint string
	// Namespace is created if missing. Empty means DefaultNamespace.
	Namespace string
	// Retention of closed runs, applied only when the namespace is created. Zero means DefaultRetention.
	Retention time.Duration
	// SQLiteMaxConns sizes the SQLite connection pool. Zero means
	// DefaultSQLiteMaxConns (1; see there why more is slower).
	SQLiteMaxConns int
	// Logger receives the server's log records (Warn and above unless
	// VerboseServer). Nil discards them.
	Logger *slog.Logger
	// VerboseServer passes the server's Info and Debug records on too.
	VerboseServer bool
	// StartTimeout bounds the whole start, including waiting for the frontend. Zero means 60s.
	StartTimeout time.Duration
}

// DefaultOptions returns the options of `secflow dev`: ./.secflow, gRPC on
// 7233, UI on 8233, namespace "default".
func DefaultOptions() Options {
	return Options{DataDir: DefaultDataDir, GRPCPort: DefaultGRPCPort, UIPort: DefaultUIPort, Namespace: DefaultNamespace}
}

// Stack is a running embedded Temporal server (and UI). Close stops it.
type Stack struct {
	server    temporal.Server
	ui        *uiserver.Server
	uiDone    chan struct{}
	level     *slog.LevelVar
	unlock    func()
	hostPort  string
	uiURL     string
	namespace string
	dbPath    string
	log       *slog.Logger
	closeOnce sync.Once
	closeErr  error
}

// HostPort is the frontend gRPC address, e.g. "127.0.0.1:7233".
func (s *Stack) HostPort() string { return s.hostPort }

// UIURL is the Web UI base URL, e.g. "http://127.0.0.1:8233", or "" without UI.
func (s *Stack) UIURL() string { return s.uiURL }

// Namespace is the namespace the stack created and registered the search attributes on.
func (s *Stack) Namespace() string { return s.namespace }

// DBPath is the SQLite database file.
func (s *Stack) DBPath() string { return s.dbPath }

// DBFileName is the database file inside the data directory. It carries the
// server version because the SQLite schema is not guaranteed compatible
// across server versions; an upgrade therefore starts with a fresh database.
var DBFileName = "temporal-" + headers.ServerVersion + ".db"

// Start starts the server, waits until the frontend answers, registers the
// search attributes (also on an existing database), then starts the UI and
// waits until it answers. On error nothing is left running.
func Start(ctx context.Context, opts Options) (_ *Stack, err error) {
	opts = withDefaults(opts)
	ctx, cancel := context.WithTimeout(ctx, opts.StartTimeout)
	defer cancel()

	if err := os.MkdirAll(opts.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("creating data directory: %w", err)
	}
	unlock, err := lockDir(opts.DataDir)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			unlock()
		}
	}()

	p, err := allocatePorts(opts)
	if err != nil {
		return nil, err
	}

	level := &slog.LevelVar{}
	level.Set(slog.LevelWarn)
	if opts.VerboseServer {
		level.Set(slog.LevelDebug)
	}
	logger := serverLogger{log: opts.Logger, level: level}

	dbPath := filepath.Join(opts.DataDir, DBFileName)
	sqlConf, err := prepareDatabase(dbPath, opts)
	if err != nil {
		return nil, err
	}

	cfg := serverConfig(sqlConf, p)
	authorizer, err := authorization.GetAuthorizerFromConfig(&cfg.Global.Authorization)
	if err != nil {
		return nil, fmt.Errorf("creating authorizer: %w", err)
	}
	claimMapper, err := authorization.GetClaimMapperFromConfig(&cfg.Global.Authorization, logger)
	if err != nil {
		return nil, fmt.Errorf("creating claim mapper: %w", err)
	}
	hostOf := func(port int) static.Hosts { return static.SingleLocalHost(net.JoinHostPort(host, strconv.Itoa(port))) }
	srv, err := temporal.NewServer(
		temporal.WithConfig(cfg),
		temporal.ForServices(temporal.DefaultServices),
		temporal.WithStaticHosts(map[primitives.ServiceName]static.Hosts{
			primitives.FrontendService: hostOf(p.frontend),
			primitives.HistoryService:  hostOf(p.history),
			primitives.MatchingService: hostOf(p.matching),
			primitives.WorkerService:   hostOf(p.worker),
		}),
		temporal.WithLogger(logger),
		temporal.WithAuthorizer(authorizer),
		temporal.WithClaimMapper(func(*config.Config) authorization.ClaimMapper { return claimMapper }),
		temporal.WithDynamicConfigClient(dynamicConfig()),
	)
	if err != nil {
		return nil, fmt.Errorf("creating Temporal server: %w", err)
	}
	if err := srv.Start(); err != nil {
		level.Set(slog.LevelError + 4)
		_ = srv.Stop()
		return nil, fmt.Errorf("starting Temporal server: %w", err)
	}
	s := &Stack{
		server: srv, level: level, unlock: unlock, namespace: opts.Namespace, dbPath: dbPath, log: opts.Logger,
		hostPort: net.JoinHostPort(host, strconv.Itoa(p.frontend)),
	}
	defer func() {
		if err != nil {
			_ = s.Close()
		}
	}()

	if err := s.awaitFrontend(ctx); err != nil {
		return nil, err
	}
	if !opts.NoUI {
		if err := s.startUI(ctx, p.ui, opts.CodecEndpoint); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func withDefaults(o Options) Options {
	if o.DataDir == "" {
		o.DataDir = DefaultDataDir
	}
	if o.Namespace == "" {
		o.Namespace = DefaultNamespace
	}
	if o.Retention == 0 {
		o.Retention = DefaultRetention
	}
	if o.SQLiteMaxConns == 0 {
		o.SQLiteMaxConns = DefaultSQLiteMaxConns
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.StartTimeout == 0 {
		o.StartTimeout = 60 * time.Second
	}
	return o
}

// ports are the listeners of the stack.
type ports struct {
	frontend, frontendHTTP, history, matching, worker, ui int
}

// allocatePorts checks the requested ports are free and picks free ports
// for the rest. It must run before the server starts: a busy port makes
// the server (and the UI server) log Fatal and exit the process.
func allocatePorts(o Options) (ports, error) {
	var p ports
	var err error
	if p.frontend, err = portOrFree(o.GRPCPort, "gRPC"); err != nil {
		return p, err
	}
	if !o.NoUI {
		if p.ui, err = portOrFree(o.UIPort, "UI"); err != nil {
			return p, err
		}
	}
	taken := map[int]bool{p.frontend: true, p.ui: true}
	for _, dst := range []*int{&p.frontendHTTP, &p.history, &p.matching, &p.worker} {
		for {
			port, err := freePort()
			if err != nil {
				return p, err
			}
			if !taken[port] {
				taken[port] = true
				*dst = port
				break
			}
		}
	}
	return p, nil
}

func portOrFree(port int, what string) (int, error) {
	if port == 0 {
		return freePort()
	}
	l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return 0, fmt.Errorf("%s port %d on %s is not free (another secflow dev or temporal server running?): %w", what, port, host, err)
	}
	_ = l.Close()
	return port, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// prepareDatabase creates the schema when the file is new and the
// namespace (with the search attributes) when it is missing.
func prepareDatabase(dbPath string, o Options) (*config.SQL, error) {
	conf := &config.SQL{
		PluginName:   sqliteplugin.PluginName,
		DatabaseName: dbPath,
		ConnectAttributes: map[string]string{
			"mode":         "rwc",
			"journal_mode": "wal",
			"synchronous":  "NORMAL",
			// Wait for a competing writer (schema setup, a larger pool)
			// instead of failing at once with SQLITE_BUSY.
			"busy_timeout": "10000",
		},
		MaxConns:     o.SQLiteMaxConns,
		MaxIdleConns: o.SQLiteMaxConns,
	}
	if _, err := os.Stat(dbPath); errors.Is(err, os.ErrNotExist) {
		if err := sqliteschema.SetupSchema(conf); err != nil {
			_ = os.Remove(dbPath)
			return nil, fmt.Errorf("creating Temporal schema in %s: %w", dbPath, err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("checking database file: %w", err)
	}
	ns, err := sqliteschema.NewNamespaceConfig(clusterName, o.Namespace, false, searchattr.Types())
	if err != nil {
		return nil, fmt.Errorf("building namespace config: %w", err)
	}
	ns.Detail.Config.Retention = timestamp.DurationPtr(o.Retention)
	if err := sqliteschema.CreateNamespaces(conf, ns); err != nil {
		return nil, fmt.Errorf("creating namespace %q: %w", o.Namespace, err)
	}
	return conf, nil
}

func serverConfig(sqlConf *config.SQL, p ports) *config.Config {
	frontendAddr := net.JoinHostPort(host, strconv.Itoa(p.frontend))
	var c config.Config
	c.Global.Membership.MaxJoinDuration = 30 * time.Second
	c.Global.Membership.BroadcastAddress = host
	c.Persistence.DefaultStore = "sqlite-default"
	c.Persistence.VisibilityStore = "sqlite-default"
	c.Persistence.NumHistoryShards = 1
	c.Persistence.DataStores = map[string]config.DataStore{"sqlite-default": {SQL: sqlConf}}
	c.ClusterMetadata = &cluster.Config{
		EnableGlobalNamespace:    false,
		FailoverVersionIncrement: 10,
		MasterClusterName:        clusterName,
		CurrentClusterName:       clusterName,
		ClusterInformation: map[string]cluster.ClusterInformation{
			clusterName: {
				Enabled:                true,
				InitialFailoverVersion: 1,
				RPCAddress:             frontendAddr,
				HTTPAddress:            net.JoinHostPort(host, strconv.Itoa(p.frontendHTTP)),
				// Used only when the database is new; afterwards the stored ID wins.
				ClusterID: uuid.NewString(),
			},
		},
	}
	c.DCRedirectionPolicy.Policy = "noop"
	svc := func(port, httpPort int) config.Service {
		var s config.Service
		s.RPC.GRPCPort = port
		s.RPC.BindOnIP = host
		s.RPC.HTTPPort = httpPort
		return s
	}
	c.Services = map[string]config.Service{
		"frontend": svc(p.frontend, p.frontendHTTP),
		"history":  svc(p.history, 0),
		"matching": svc(p.matching, 0),
		"worker":   svc(p.worker, 0),
	}
	c.Archival.History.State = "disabled"
	c.Archival.Visibility.State = "disabled"
	c.NamespaceDefaults.Archival.History.State = "disabled"
	c.NamespaceDefaults.Archival.Visibility.State = "disabled"
	c.PublicClient.HostPort = frontendAddr
	return &c
}

// dynamicConfig returns the dynamic configuration of the dev stack.
func dynamicConfig() dynamicconfig.StaticClient {
	return dynamicconfig.StaticClient{
		// Activities scheduled by a workflow task run on the same worker
		// without a round trip through matching (halves activity latency).
		dynamicconfig.EnableActivityEagerExecution.Key(): true,
		// No phoning home: the version check would reach the internet.
		dynamicconfig.EnableServerVersionCheck.Key(): false,
		// Search attributes added at start are visible at once.
		dynamicconfig.ForceSearchAttributesCacheRefreshOnRead.Key(): true,
		// What the temporal CLI's dev server sets.
		dynamicconfig.HistoryCacheHostLevelMaxSize.Key():                 8096,
		dynamicconfig.FrontendMaxNamespaceVisibilityRPSPerInstance.Key(): 100,
		dynamicconfig.FrontendPersistenceMaxQPS.Key():                    10000,
		dynamicconfig.HistoryPersistenceMaxQPS.Key():                     45000,
	}
}

// awaitFrontend waits until the namespace answers, then registers the
// search attributes (CreateNamespaces does nothing for an existing
// namespace, so attributes added later would otherwise be missing).
func (s *Stack) awaitFrontend(ctx context.Context) error {
	c, err := client.DialContext(ctx, client.Options{
		HostPort:  s.hostPort,
		Namespace: s.namespace,
		Logger:    sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler)),
	})
	if err != nil {
		return fmt.Errorf("connecting to the embedded frontend at %s: %w", s.hostPort, err)
	}
	defer c.Close()
	for {
		_, err = c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: s.namespace})
		if err == nil {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for namespace %q: %w (last error: %v)", s.namespace, ctx.Err(), err)
		case <-time.After(50 * time.Millisecond):
		}
	}
	if err := searchattr.Ensure(ctx, c, s.namespace); err != nil {
		return fmt.Errorf("registering search attributes: %w", err)
	}
	return nil
}

// startUI starts the Web UI (its Start blocks, so in a goroutine) and waits
// for its health endpoint.
func (s *Stack) startUI(ctx context.Context, port int, codecEndpoint string) error {
	s.ui = uiserver.NewServer(uiserveroptions.WithConfigProvider(&uiconfig.Config{
		Host:                host,
		Port:                port,
		TemporalGRPCAddress: s.hostPort,
		EnableUI:            true,
		DefaultNamespace:    s.namespace,
		CORS:                uiconfig.CORS{CookieInsecure: true},
		Codec:               uiconfig.Codec{Endpoint: codecEndpoint},
		HideLogs:            true,
		DisableNewsFetch:    true,
	}))
	s.uiDone = make(chan struct{})
	go func() {
		defer close(s.uiDone)
		_ = s.ui.Start() // returns nil once stopped; other errors exit via the UI's own logger
	}()
	s.uiURL = "http://" + net.JoinHostPort(host, strconv.Itoa(port))
	hc := &http.Client{Timeout: time.Second}
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.uiURL+"/healthz", nil)
		if err != nil {
			return fmt.Errorf("building UI health request: %w", err)
		}
		resp, err := hc.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("status %s", resp.Status)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for the UI at %s: %w (last error: %v)", s.uiURL, ctx.Err(), err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Close stops the UI and the server (the server's shutdown noise is
// silenced), folds the write-ahead log into the database file and releases
// the data directory. It is safe to call twice.
func (s *Stack) Close() error {
	s.closeOnce.Do(func() {
		s.level.Set(slog.LevelError + 4)
		if s.ui != nil {
			s.ui.Stop()
			<-s.uiDone
		}
		if err := s.server.Stop(); err != nil {
			s.closeErr = fmt.Errorf("stopping Temporal server: %w", err)
		}
		if err := checkpoint(s.dbPath); err != nil {
			// Not fatal: SQLite replays the WAL on the next open.
			s.log.Warn("checkpointing the SQLite write-ahead log", "db", s.dbPath, "error", err)
		}
		s.unlock()
	})
	return s.closeErr
}

// checkpoint copies the write-ahead log into the database file and
// truncates it, so the .db file alone holds every committed change. The
// server's SQLite plugin never closes its pooled connection (so SQLite
// cannot do this on close itself); once the server has stopped, that
// connection is idle and a second connection can checkpoint.
func checkpoint(dbPath string) error {
	db, err := sql.Open("sqlite", "file:"+dbPath+"?_pragma=busy_timeout%3D5000")
	if err != nil {
		return err
	}
	defer db.Close()
	var busy, logFrames, checkpointed int
	if err := db.QueryRow("PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &logFrames, &checkpointed); err != nil {
		return err
	}
	if busy != 0 {
		return fmt.Errorf("checkpoint blocked (%d of %d frames copied)", checkpointed, logFrames)
	}
	return nil
}
