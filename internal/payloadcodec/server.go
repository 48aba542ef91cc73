package payloadcodec

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/secflow/secflow/internal/bearer"
)

// DefaultMaxBodyBytes caps a codec server request body (the UI sends a
// page of history events at a time; one payload is at most 2 MiB).
const DefaultMaxBodyBytes = 16 << 20

// HandlerOptions configure NewHandler.
type HandlerOptions struct {
	// Codec encodes and decodes the payloads (required).
	Codec converter.PayloadCodec
	// BearerTokens, when non-empty, are the accepted
	// "Authorization: Bearer <token>" values; empty means no authentication.
	BearerTokens []string
	// AllowedOrigins are the browser origins (e.g. the Temporal UI's
	// "http://127.0.0.1:8233") allowed to call the server cross-origin.
	// Empty: no CORS headers, so only non-browser clients (the CLI) work.
	AllowedOrigins []string
	// MaxBodyBytes caps the request body (0: DefaultMaxBodyBytes).
	MaxBodyBytes int64
	// Logger receives one debug line per request and warnings for refused
	// ones (nil: discard). Payload data is never logged.
	Logger *slog.Logger
}

// handler serves the codec server protocol.
type handler struct {
	codec   converter.PayloadCodec
	tokens  bearer.Tokens
	origins map[string]bool
	max     int64
	log     *slog.Logger
}

// NewHandler returns the HTTP handler of the Temporal codec server
// protocol: POST .../encode and POST .../decode (any path prefix, e.g.
// "/{namespace}/decode" as the CLI's --codec-endpoint template produces),
// each taking and answering the proto JSON of {"payloads": [...]}. The
// X-Namespace header is logged (the key ring is the same for every
// namespace). Other paths answer 404, other methods 405, an unreadable
// body 400, a body over the cap 413, a missing or wrong bearer token 401,
// a payload that fails to decrypt 400 with the reason. Preflight (OPTIONS)
// requests from an allowed origin get the CORS answer the UI needs.
func NewHandler(o HandlerOptions) (http.Handler, error) {
	if o.Codec == nil {
		return nil, errors.New("codec server: no codec")
	}
	h := &handler{codec: o.Codec, origins: map[string]bool{}, max: o.MaxBodyBytes, log: o.Logger}
	for _, t := range o.BearerTokens {
		h.tokens = append(h.tokens, bearer.New(strings.TrimSpace(t))...)
	}
	for _, origin := range o.AllowedOrigins {
		origin = strings.TrimRight(strings.TrimSpace(origin), "/")
		if origin == "*" {
			return nil, errors.New("codec server: CORS origin \"*\" is not allowed (name the UI's origin, e.g. http://127.0.0.1:8233)")
		}
		if origin != "" {
			h.origins[origin] = true
		}
	}
	if h.max <= 0 {
		h.max = DefaultMaxBodyBytes
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	return h, nil
}

// operation returns "encode" or "decode" for a codec path, "" otherwise.
func operation(path string) string {
	path = strings.TrimRight(path, "/")
	switch {
	case strings.HasSuffix(path, "/encode"):
		return "encode"
	case strings.HasSuffix(path, "/decode"):
		return "decode"
	}
	return ""
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op := operation(r.URL.Path)
	log := h.log.With("path", r.URL.Path, "method", r.Method, "namespace", r.Header.Get("X-Namespace"), "remote", r.RemoteAddr)
	if op == "" {
		h.fail(w, log, http.StatusNotFound, "unknown path: use POST /encode or /decode")
		return
	}
	origin := r.Header.Get("Origin")
	if origin != "" && h.origins[origin] {
		w.Header().Set("Access-Control-Allow-Origin", origin)
		w.Header().Set("Access-Control-Allow-Credentials", "true")
	}
	w.Header().Add("Vary", "Origin")
	switch r.Method {
	case http.MethodOptions:
		if origin == "" || !h.origins[origin] {
			h.fail(w, log, http.StatusForbidden, "origin not allowed")
			return
		}
		w.Header().Set("Access-Control-Allow-Methods", "POST, OPTIONS")
		w.Header().Set("Access-Control-Allow-Headers", "Content-Type, X-Namespace, Authorization")
		w.Header().Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
		return
	case http.MethodPost:
	default:
		w.Header().Set("Allow", "POST, OPTIONS")
		h.fail(w, log, http.StatusMethodNotAllowed, "method not allowed: use POST")
		return
	}
	if !h.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="secflow codec server"`)
		h.fail(w, log, http.StatusUnauthorized, "missing or invalid bearer token")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.max))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			h.fail(w, log, http.StatusRequestEntityTooLarge, "request body too large")
			return
		}
		h.fail(w, log, http.StatusBadRequest, "reading request body failed")
		return
	}
	var in commonpb.Payloads
	// The parser's message may quote the body (payload data): not echoed.
	if err := protojson.Unmarshal(body, &in); err != nil {
		h.fail(w, log, http.StatusBadRequest, `request body is not JSON of the form {"payloads": [{"metadata": {...}, "data": "<base64>"}]}`)
		return
	}
	var out []*commonpb.Payload
	if op == "encode" {
		out, err = h.codec.Encode(in.Payloads)
	} else {
		out, err = h.codec.Decode(in.Payloads)
	}
	if err != nil {
		h.fail(w, log, http.StatusBadRequest, op+" failed: "+err.Error())
		return
	}
	b, err := protojson.Marshal(&commonpb.Payloads{Payloads: out})
	if err != nil {
		h.fail(w, log, http.StatusInternalServerError, "encoding the answer failed")
		return
	}
	if len(out) == 0 {
		b = []byte(`{"payloads":[]}`)
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
	log.Debug("codec request", "op", op, "payloads", len(out))
}

// authorized reports whether the request carries one of the configured
// bearer tokens (bearer.Tokens: constant-time digest compare); any request
// is when none is configured.
func (h *handler) authorized(r *http.Request) bool {
	return len(h.tokens) == 0 || h.tokens.Authorized(r.Header.Get("Authorization"))
}

func (h *handler) fail(w http.ResponseWriter, log *slog.Logger, status int, reason string) {
	log.Warn("codec request refused", "status", status, "reason", reason)
	http.Error(w, reason, status)
}
