package payloadcodec

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// Environment variables that configure the key ring.
const (
	// EnvKeys holds the key ring inline: "id1:base64key,id2:base64key".
	EnvKeys = "SECFLOW_PAYLOAD_KEYS"
	// EnvKeysFile names a file holding the key ring in the same format
	// (entries separated by commas or newlines; '#' starts a comment line).
	EnvKeysFile = "SECFLOW_PAYLOAD_KEYS_FILE"
)

// maxKeysFile bounds the key file (a key ring is a few hundred bytes).
const maxKeysFile = 64 << 10

// Source says where the key ring comes from. Both empty means payload
// encryption is off. Keys is secret: Source never prints it.
type Source struct {
	// Keys is the inline key ring (EnvKeys).
	Keys string
	// File names a key ring file (EnvKeysFile).
	File string
}

// SourceFromEnv reads EnvKeys and EnvKeysFile with lookup (os.LookupEnv).
func SourceFromEnv(lookup func(string) (string, bool)) Source {
	k, _ := lookup(EnvKeys)
	f, _ := lookup(EnvKeysFile)
	return Source{Keys: strings.TrimSpace(k), File: strings.TrimSpace(f)}
}

// Configured reports whether a key ring is given.
func (s Source) Configured() bool { return s.Keys != "" || s.File != "" }

// String describes the source without key material.
func (s Source) String() string {
	switch {
	case s.Keys != "" && s.File != "":
		return EnvKeys + " and " + EnvKeysFile
	case s.Keys != "":
		return EnvKeys
	case s.File != "":
		return "file " + s.File
	}
	return "none"
}

// Load parses the key ring and builds the codec. It returns nil, nil when
// nothing is configured; any problem (both sources set, unreadable file,
// bad entry, wrong key length) is an error that never contains key bytes.
func (s Source) Load() (*Codec, error) {
	if !s.Configured() {
		return nil, nil
	}
	if s.Keys != "" && s.File != "" {
		return nil, fmt.Errorf("payload encryption: set only one of %s and %s", EnvKeys, EnvKeysFile)
	}
	spec, origin := s.Keys, EnvKeys
	if s.File != "" {
		b, err := readKeysFile(s.File)
		if err != nil {
			return nil, err
		}
		spec, origin = b, s.File
	}
	keys, err := ParseKeys(spec)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, origin)
	}
	c, err := New(keys)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, origin)
	}
	return c, nil
}

func readKeysFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("payload encryption: reading key file: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("payload encryption: reading key file: %w", err)
	}
	if !st.Mode().IsRegular() || st.Size() > maxKeysFile {
		return "", fmt.Errorf("payload encryption: key file %s must be a regular file of at most %d bytes", path, maxKeysFile)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxKeysFile))
	if err != nil {
		return "", fmt.Errorf("payload encryption: reading key file: %w", err)
	}
	return string(b), nil
}

// ParseKeys parses "id:base64key" entries separated by commas or
// newlines; blank entries and lines starting with '#' are skipped. The
// first entry is the current (encrypting) key. Keys are standard or URL
// base64, padded or not, and must decode to 32 bytes (e.g. `openssl rand
// -base64 32`). Errors name the entry's id or position, never the key.
func ParseKeys(spec string) ([]Key, error) {
	var keys []Key
	n := 0
	for _, line := range strings.Split(spec, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		for _, entry := range strings.Split(line, ",") {
			entry = strings.TrimSpace(entry)
			if entry == "" {
				continue
			}
			n++
			id, b64, ok := strings.Cut(entry, ":")
			id, b64 = strings.TrimSpace(id), strings.TrimSpace(b64)
			if !ok || id == "" || b64 == "" {
				return nil, fmt.Errorf("payload encryption: entry %d is not id:base64key", n)
			}
			secret, err := decodeKey(b64)
			if err != nil {
				return nil, fmt.Errorf("payload encryption: key %q is not valid base64", id)
			}
			keys = append(keys, Key{ID: id, Secret: secret})
		}
	}
	if len(keys) == 0 {
		return nil, errors.New("payload encryption: no key in the key ring")
	}
	return keys, nil
}

func decodeKey(s string) ([]byte, error) {
	var err error
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		var b []byte
		if b, err = enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, err
}
